// The built CLI (dist/cli.js): starts from a clients file, prints the root URL, and refuses a bad
// file with one line.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import taskcluster from 'taskcluster-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const CLIENT = {
  clientId: 'demo',
  accessToken: 'demo-token-0123456789abcdef',
  scopes: ['auth:current-scopes', 'assume:project:demo'],
};
let dir: string;

beforeAll(() => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npx nx build fake-taskcluster\` first`);
  dir = mkdtempSync(join(tmpdir(), 'fake-tc-cli-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(args: string[]) {
  const proc = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  proc.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', resolve));
  const url = new Promise<string>((resolve, reject) => {
    proc.stdout.on('data', () => {
      const m = /^(http:\/\/\S+)\n/.exec(stdout);
      if (m) resolve(m[1] as string);
    });
    void exited.then((code) => reject(new Error(`exited ${code}: ${stderr}`)));
  });
  url.catch(() => undefined);
  return { proc, url, exited, stderr: () => stderr };
}

describe('fake-taskcluster CLI', () => {
  it('serves the clients, roles and tasks of --clients-file and prints its root URL', async () => {
    const file = join(dir, 'clients.json');
    writeFileSync(
      file,
      JSON.stringify({
        clients: [CLIENT],
        roles: [{ roleId: 'project:demo', scopes: ['queue:get-task:t1'] }],
        tasks: { t1: { scopes: ['secrets:get:demo'] } },
      }),
    );
    const { proc, url } = run(['--port', '0', '--clients-file', file]);
    try {
      const rootUrl = await url;
      expect(rootUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const auth = new taskcluster.Auth({ rootUrl, credentials: CLIENT, retries: 0 });
      expect((await auth.currentScopes()).scopes).toEqual([
        'assume:anonymous',
        'assume:project:demo',
        'auth:current-scopes',
        'queue:get-task:t1',
      ]);
      expect(
        (await new taskcluster.Queue({ rootUrl, credentials: CLIENT, retries: 0 }).task('t1')).scopes,
      ).toEqual(['secrets:get:demo']);
    } finally {
      proc.kill('SIGTERM');
    }
  });

  it('refuses a clients file without valid clients, in one line', async () => {
    const file = join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify([{ clientId: 'x' }]));
    const { exited, stderr } = run(['--clients-file', file]);
    expect(await exited).toBe(1);
    expect(stderr().trim().split('\n')).toHaveLength(1);
    expect(stderr()).toMatch(/^fake-taskcluster: .*clients\[0\] needs clientId, accessToken/);
  });

  it('refuses a missing --clients-file with one usage line, exit 64', async () => {
    const { exited, stderr } = run(['--port', '0']);
    expect(await exited).toBe(64);
    expect(stderr()).toBe(
      "fake-taskcluster: required option '--clients-file <file>' not specified (see --help)\n",
    );
  });
});
