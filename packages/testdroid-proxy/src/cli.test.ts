// The built CLI (dist/cli.js, the package's bin) in a child process: its exit statuses (0 ok,
// 1 runtime failure, 64 usage error, each error one line) and --version. Builds it first.
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

const pkgDir = resolve(fileURLToPath(new URL('..', import.meta.url)));
const CLI = join(pkgDir, 'dist/cli.js');
const { version } = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as { version: string };
/** Everything the proxy needs, from the environment. */
const ENV = {
  TESTDROID_CLOUD_URL: 'http://127.0.0.1:9/',
  TESTDROID_USERNAME: 'ci@example.com',
  TESTDROID_PASSWORD: 'secret',
  TASKCLUSTER_CLIENT_ID: 'worker/ci',
  TASKCLUSTER_ACCESS_TOKEN: 'token',
  DEVICE_TIMEOUT: '60',
};

beforeAll(() => {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', join(pkgDir, 'tsconfig.json')], { stdio: 'inherit' });
}, 120_000);

/** Runs the CLI to its exit (it must exit by itself). */
async function cli(args: string[], env: Record<string, string> = ENV) {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const [code] = (await once(child, 'close')) as [number | null];
  return { code, stdout, stderr };
}

describe('testdroid-proxy CLI', () => {
  it('answers --version with the package version', async () => {
    expect(await cli(['--version'], {})).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
  });

  it('lists the exit statuses in --help', async () => {
    const r = await cli(['--help'], {});
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Exit status: 0 stopped (SIGTERM), 1 runtime failure');
    expect(r.stdout).toContain('64 usage error');
  });

  it.each([
    [
      'an invalid LOG_LEVEL',
      [],
      { ...ENV, LOG_LEVEL: 'loud' },
      'testdroid-proxy: --log-level must be one of fatal, error, warn, info, debug, trace, silent, got "loud"\n',
    ],
    ['an unknown flag', ['--bogus'], ENV, "testdroid-proxy: unknown option '--bogus' (see --help)\n"],
    ['a missing setting', [], {}, 'testdroid-proxy: missing --cloud-url (or env TESTDROID_CLOUD_URL)\n'],
  ])('refuses %s with one line and exit 64', async (_what, args, env, line) => {
    expect(await cli(args, env)).toEqual({ code: 64, stdout: '', stderr: line });
  });

  it('exits 1 with one line when it cannot listen', async () => {
    const taken = createServer().listen(0, '127.0.0.1');
    await once(taken, 'listening');
    try {
      const { port } = taken.address() as AddressInfo;
      const r = await cli(['--host', '127.0.0.1', '--port', String(port)]);
      expect(r).toMatchObject({ code: 1, stdout: '' });
      expect(r.stderr).toBe(
        `testdroid-proxy: cannot listen on 127.0.0.1:${port}: listen EADDRINUSE: address already in use 127.0.0.1:${port}\n`,
      );
    } finally {
      taken.close();
    }
  });
});
