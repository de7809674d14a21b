// The built executable (dist/cli.js, the package's bin) in a real child process. Builds it first.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const pkg = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(
  pkg,
  (JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8')) as { bin: Record<string, string> }).bin[
    'encrypted-env'
  ] ?? '',
);
let dir: string;

function cli(args: string[], input?: string) {
  const r = spawnSync(process.execPath, [bin, ...args], {
    encoding: 'utf8',
    ...(input === undefined ? { stdio: ['ignore', 'pipe', 'pipe'] } : { input }),
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', join(pkg, 'tsconfig.json')], { stdio: 'inherit' });
  dir = mkdtempSync(join(tmpdir(), 'encrypted-env-bin-'));
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('encrypted-env executable', () => {
  it('starts with a node shebang', () => {
    expect(readFileSync(bin, 'utf8').split('\n')[0]).toBe('#!/usr/bin/env node');
  });

  it('keygen → encrypt (value on stdin) → decrypt (message on stdin)', () => {
    expect(cli(['keygen', '--out', dir]).code).toBe(0);
    const enc = cli(
      ['encrypt', '--key', join(dir, 'worker-public.asc'), '--task-id', 'T1', '--name', 'TOKEN'],
      'piped secret\n',
    );
    expect(enc).toMatchObject({ code: 0, stderr: '' });
    const dec = cli(
      ['decrypt', '--key', join(dir, 'worker-private.asc'), '--task-id', 'T1', '--show-values', '-'],
      enc.stdout,
    );
    expect(dec).toEqual({ code: 0, stdout: 'TOKEN=piped secret\n', stderr: '' });
  });

  it('--help and --version exit 0; errors are one line with exit 1 or 64', () => {
    expect(cli(['--help'])).toMatchObject({ code: 0, stderr: '' });
    expect(cli(['--help']).stdout).toContain(
      'Exit status: 0 ok, 1 failure (one line on stderr), 64 usage error.',
    );
    const { version } = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8')) as { version: string };
    expect(cli(['--version'])).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
    expect(cli(['encrypt', '--help']).stdout).toContain('--value-file <file>');
    const missing = cli(['decrypt', '--key', join(dir, 'nope.asc'), '--task-id', 'T1', 'AAAA']);
    expect(missing).toMatchObject({ code: 1, stdout: '' });
    expect(missing.stderr).toMatch(/^encrypted-env: cannot read --key .*nope\.asc: no such file; [^\n]+\n$/);
    const usage = cli(['encrypt', '--key', join(dir, 'worker-public.asc'), '--task-id', 'T1', '--name', 'A']);
    expect(usage).toMatchObject({ code: 64, stdout: '' });
    expect(usage.stderr).toMatch(/^encrypted-env: no value: standard input is empty; [^\n]+\n$/);
  });
});
