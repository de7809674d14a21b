// The real CLI process (dist/cli.js, built by `nx build`) against fake-taskcluster on loopback:
// config from env and arguments, one-line errors, /credentials with a secret file, and 1 GiB
// streamed both ways with the proxy process's RSS sampled from /proc (a memory bound, not a time).
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import taskcluster from 'taskcluster-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { blobSha256, blobStream, startFakeTaskcluster } from '@docker-worker/fake-taskcluster';
import type { FakeTaskcluster } from '@docker-worker/fake-taskcluster';

const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const WORKER = {
  clientId: 'worker',
  accessToken: 'worker-token-0123456789abcdef',
  scopes: ['auth:current-scopes', 'queue:*', 'secrets:*'],
};
const NEXT = {
  clientId: 'worker-2',
  accessToken: 'next-token-0123456789abcdef',
  scopes: ['auth:current-scopes', 'queue:*'],
};
const SECRET = 'cli-secret-0123456789';
const GiB = 2 ** 30;
const MiB = 2 ** 20;

let tc: FakeTaskcluster;
let dir: string;
let child: ChildProcess | undefined;

beforeAll(async () => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npx nx build taskcluster-proxy\` first`);
  tc = await startFakeTaskcluster({ clients: [WORKER, NEXT] });
  dir = mkdtempSync(join(tmpdir(), 'tc-proxy-cli-'));
});
afterAll(async () => {
  await tc.close();
  rmSync(dir, { recursive: true, force: true });
});
afterEach(() => {
  child?.kill('SIGTERM');
  child = undefined;
});

function baseEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    TASKCLUSTER_ROOT_URL: tc.rootUrl,
    TASKCLUSTER_CLIENT_ID: WORKER.clientId,
    TASKCLUSTER_ACCESS_TOKEN: WORKER.accessToken,
    ...extra,
  };
}

/** Starts the CLI on a free port; resolves with its URL once it logs "listening". */
function startCli(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ url: string; pid: number; output: () => string }> {
  const proc = spawn(process.execPath, [CLI, '--port', '0', '--ip-address', '127.0.0.1', ...args], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child = proc;
  let out = '';
  proc.stdout.on('data', (c: Buffer) => (out += c.toString()));
  proc.stderr.on('data', (c: Buffer) => (out += c.toString()));
  return new Promise((resolve, reject) => {
    proc.once('exit', (code) => reject(new Error(`taskcluster-proxy exited (${code}): ${out}`)));
    proc.stdout.on('data', () => {
      const line = out.split('\n').find((l) => l.includes('"listening"'));
      if (line)
        resolve({
          url: `http://127.0.0.1:${(JSON.parse(line) as { port: number }).port}`,
          pid: proc.pid as number,
          output: () => out,
        });
    });
  });
}

function runCli(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stderr: string }> {
  const proc = spawn(process.execPath, [CLI, ...args], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve) => proc.once('exit', (code) => resolve({ code, stderr })));
}

async function scopesVia(url: string): Promise<unknown> {
  return ((await (await fetch(`${url}/auth/v1/scopes/current`)).json()) as { scopes: unknown }).scopes;
}

function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? 0) * 1024;
}

/** Samples the RSS of `pid` every 25 ms while `work` runs; returns the peak. */
async function peakRss<T>(pid: number, work: () => Promise<T>): Promise<{ result: T; peak: number }> {
  let peak = rssBytes(pid);
  const timer = setInterval(() => (peak = Math.max(peak, rssBytes(pid))), 25);
  try {
    const result = await work();
    return { result, peak: Math.max(peak, rssBytes(pid)) };
  } finally {
    clearInterval(timer);
  }
}

function put(url: string, bytes: number): Promise<{ bytes: number; sha256: string; clientId: string }> {
  return new Promise((resolve, reject) => {
    const u = new URL(`${url}/fake/v1/blob`);
    const req = http.request(
      {
        host: u.hostname,
        port: u.port,
        path: u.pathname,
        method: 'PUT',
        headers: { 'content-length': String(bytes) },
      },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () =>
          res.statusCode === 200
            ? resolve(JSON.parse(text))
            : reject(new Error(`PUT ${res.statusCode}: ${text}`)),
        );
      },
    );
    req.on('error', reject);
    pipeline(blobStream(bytes), req).catch(reject);
  });
}

/** GET with node:http (fetch's web streams cost ~20 % more CPU per GiB in the test process). */
function get(url: string, bytes: number): Promise<{ bytes: number; sha256: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(`${url}/fake/v1/blob/${bytes}`, (res) => {
        if (res.statusCode !== 200) reject(new Error(`GET ${res.statusCode}`));
        const hash = createHash('sha256');
        let n = 0;
        res.on('data', (chunk: Buffer) => {
          n += chunk.length;
          hash.update(chunk);
        });
        res.on('end', () => resolve({ bytes: n, sha256: hash.digest('hex') }));
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

describe('taskcluster-proxy CLI', () => {
  it('restricts to the positional scopes with credentials from TASKCLUSTER_* env', async () => {
    const { url } = await startCli(['auth:current-scopes', 'queue:get-task:x'], baseEnv());
    expect(await scopesVia(url)).toEqual(['assume:anonymous', 'auth:current-scopes', 'queue:get-task:x']);
  });

  it('signs with temporary credentials from TASKCLUSTER_CERTIFICATE (createTemporaryCredentials), never beyond the certificate', async () => {
    const temp = taskcluster.createTemporaryCredentials({
      credentials: WORKER,
      scopes: ['auth:current-scopes', 'queue:get-task:*'],
      expiry: new Date(Date.now() + 3600_000),
    });
    const env = baseEnv({
      TASKCLUSTER_ACCESS_TOKEN: temp.accessToken,
      TASKCLUSTER_CERTIFICATE: temp.certificate,
    });
    const { url } = await startCli(['auth:current-scopes', 'queue:get-task:x'], env);
    const res = await fetch(`${url}/auth/v1/scopes/current`);
    expect(res.headers.get('x-taskcluster-proxy-temp-clientid')).toBe('worker');
    expect(((await res.json()) as { scopes: unknown }).scopes).toEqual([
      'assume:anonymous',
      'auth:current-scopes',
      'queue:get-task:x',
    ]);
    child?.kill('SIGTERM');
    // secrets:get:a is the worker's, but not the certificate's: the upstream refuses it.
    const wider = await startCli(['auth:current-scopes', 'secrets:get:a'], env);
    const refused = await fetch(`${wider.url}/auth/v1/scopes/current`);
    expect(refused.status).toBe(401);
    expect(((await refused.json()) as { message: string }).message).toMatch(/authorizedScopes/);
  });

  it('adds the scopes of --task-id (queue.task, fetched with the credentials) to the positional ones', async () => {
    tc.tasks.add('task-with-scopes', { scopes: ['secrets:get:a', 'auth:current-scopes'], payload: {} });
    const { url, output } = await startCli(
      ['--task-id', 'task-with-scopes', 'auth:current-scopes', 'queue:get-task:x'],
      baseEnv(),
    );
    expect(await scopesVia(url)).toEqual([
      'assume:anonymous',
      'auth:current-scopes',
      'queue:get-task:x',
      'secrets:get:a',
    ]);
    expect(tc.requests.find((r) => r.path === '/api/queue/v1/task/task-with-scopes')).toMatchObject({
      clientId: 'worker',
      status: 200,
    });
    expect(output()).not.toContain(WORKER.accessToken);
  });

  it('refuses to start with one line when the --task-id task cannot be fetched', async () => {
    const { code, stderr } = await runCli(['--task-id', 'no-such-task', 'auth:current-scopes'], baseEnv());
    expect(code).toBe(1);
    expect(stderr).toBe(
      'taskcluster-proxy: --task-id no-such-task: cannot fetch the task from the queue (404 ResourceNotFound); check --task-id\n',
    );
  });

  it('reads the scopes from --scopes-file and credentials from flags', async () => {
    const file = join(dir, 'scopes.json');
    writeFileSync(file, JSON.stringify(['auth:current-scopes', 'secrets:get:a']));
    const env = { PATH: process.env.PATH };
    const { url } = await startCli(
      [
        '--root-url',
        tc.rootUrl,
        '--client-id',
        WORKER.clientId,
        '--access-token',
        WORKER.accessToken,
        '--scopes-file',
        file,
      ],
      env,
    );
    expect(await scopesVia(url)).toEqual(['assume:anonymous', 'auth:current-scopes', 'secrets:get:a']);
  });

  it('takes the access token from TASKCLUSTER_ACCESS_TOKEN_FILE, so it need not be in the environment', async () => {
    const file = join(dir, 'token');
    writeFileSync(file, `${WORKER.accessToken}\n`);
    const env = baseEnv({ TASKCLUSTER_ACCESS_TOKEN_FILE: file });
    delete env.TASKCLUSTER_ACCESS_TOKEN;
    const { url } = await startCli(['auth:current-scopes'], env);
    expect((await (await fetch(`${url}/fake/v1/whoami`)).json()) as object).toMatchObject({
      clientId: WORKER.clientId,
    });
  });

  it('takes the /credentials secret from TASKCLUSTER_PROXY_CREDENTIALS_SECRET_FILE and never logs it', async () => {
    const file = join(dir, 'secret');
    writeFileSync(file, `${SECRET}\n`);
    const { url, output } = await startCli(
      ['auth:current-scopes'],
      baseEnv({ TASKCLUSTER_PROXY_CREDENTIALS_SECRET_FILE: file }),
    );
    const refused = await fetch(`${url}/credentials`, {
      method: 'PUT',
      body: JSON.stringify(NEXT),
      headers: { authorization: 'Bearer wrong' },
    });
    expect(refused.status).toBe(401);
    const ok = await fetch(`${url}/credentials`, {
      method: 'PUT',
      body: JSON.stringify(NEXT),
      headers: { authorization: `Bearer ${SECRET}` },
    });
    expect(ok.status).toBe(200);
    expect((await (await fetch(`${url}/fake/v1/whoami`)).json()) as object).toMatchObject({
      clientId: 'worker-2',
    });
    // The access line is written when the response has ended; wait (bounded) for it to arrive.
    for (let i = 0; i < 100 && !output().includes('"proxied"'); i++)
      await new Promise((r) => setTimeout(r, 50));
    const logged = output();
    expect(logged).toContain('"proxied"');
    for (const secret of [SECRET, WORKER.accessToken, NEXT.accessToken]) expect(logged).not.toContain(secret);
  });

  it.each([
    [[], { TASKCLUSTER_CLIENT_ID: 'a', TASKCLUSTER_ACCESS_TOKEN: 'b' }, /no root URL: pass --root-url/],
    [
      ['--root-url', 'ftp://x'],
      { TASKCLUSTER_CLIENT_ID: 'a', TASKCLUSTER_ACCESS_TOKEN: 'b' },
      /is not an http\(s\) URL/,
    ],
    [['--root-url', 'http://x'], {}, /no credentials: pass --client-id/],
    [
      ['--root-url', 'http://x', '--certificate', '{bad'],
      { TASKCLUSTER_CLIENT_ID: 'a', TASKCLUSTER_ACCESS_TOKEN: 'b' },
      /certificate is not valid JSON/,
    ],
    [
      ['--root-url', 'http://x', '--port', 'eighty'],
      { TASKCLUSTER_CLIENT_ID: 'a', TASKCLUSTER_ACCESS_TOKEN: 'b' },
      /must be a port number/,
    ],
    [
      ['--root-url', 'http://x', '--bogus'],
      { TASKCLUSTER_CLIENT_ID: 'a', TASKCLUSTER_ACCESS_TOKEN: 'b' },
      /unknown option '--bogus' \(see --help\)/,
    ],
    [
      ['--root-url', 'http://x', 'queue:get-task:a\nb'],
      { TASKCLUSTER_CLIENT_ID: 'a', TASKCLUSTER_ACCESS_TOKEN: 'b' },
      /^taskcluster-proxy: scope "queue:get-task:a\\nb" is not a valid scope: scopes are printable ASCII \(0x20-0x7e, no control characters\); check the scope arguments\n$/,
    ],
    [
      ['--root-url', 'http://x', 'secrets:get:caf\u00e9'],
      { TASKCLUSTER_CLIENT_ID: 'a', TASKCLUSTER_ACCESS_TOKEN: 'b' },
      /scope "secrets:get:café" is not a valid scope/,
    ],
    [
      ['--root-url', 'http://x', 'auth:current-scopes'],
      { TASKCLUSTER_CLIENT_ID: 'a', TASKCLUSTER_ACCESS_TOKEN: 'b', LOG_LEVEL: 'loud' },
      /^taskcluster-proxy: LOG_LEVEL="loud" is not a log level; use one of trace, debug, info, warn, error, fatal, silent\n$/,
    ],
    [
      ['--root-url', 'http://x', '--ip-address', '192.0.2.1'],
      { TASKCLUSTER_CLIENT_ID: 'a', TASKCLUSTER_ACCESS_TOKEN: 'secret-token-xyz' },
      /cannot listen on 192\.0\.2\.1:8080: no such local address/,
    ],
  ])('refuses %j with one line, exit 64', async (args, env, message) => {
    const { code, stderr } = await runCli(args, { PATH: process.env.PATH, ...env });
    expect(code).toBe(64);
    expect(stderr).toMatch(message);
    expect(stderr).toMatch(/^taskcluster-proxy: /);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).not.toContain('secret-token-xyz');
  });
});

describe('taskcluster-proxy --version and --help', () => {
  it('prints the package version (exit 0), also in the proxy-version header', async () => {
    const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    const proc = spawn(process.execPath, [CLI, '--version'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    proc.stdout.on('data', (c: Buffer) => (out += c.toString()));
    const code = await new Promise((resolve) => proc.once('exit', resolve));
    expect({ code, out }).toEqual({ code: 0, out: `${version}\n` });
    const { url } = await startCli(['auth:current-scopes'], baseEnv({ LOG_LEVEL: 'debug' }));
    expect((await fetch(`${url}/__health`)).headers.get('x-taskcluster-proxy-version')).toBe(version);
  });

  it('--help lists the exit statuses and LOG_LEVEL (exit 0)', async () => {
    const proc = spawn(process.execPath, [CLI, '--help'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    proc.stdout.on('data', (c: Buffer) => (out += c.toString()));
    expect(await new Promise((resolve) => proc.once('exit', resolve))).toBe(0);
    expect(out).toContain('Exit status: 0 ok, 1 runtime failure');
    expect(out).toContain('LOG_LEVEL');
    expect(out).toContain('-V, --version');
  });
});

describe('streaming through the CLI process', () => {
  it('passes a 1 GiB PUT and a 1 GiB GET with the proxy RSS bounded', { timeout: 240_000 }, async () => {
    const { url, pid } = await startCli(['auth:current-scopes'], baseEnv());
    // Warm up (JIT, sockets, pools) before taking the baseline.
    expect(await put(url, 16 * MiB)).toMatchObject({ bytes: 16 * MiB, sha256: blobSha256(16 * MiB) });
    expect(await get(url, 16 * MiB)).toEqual({ bytes: 16 * MiB, sha256: blobSha256(16 * MiB) });
    const baseline = rssBytes(pid);
    const up = await peakRss(pid, () => put(url, GiB));
    expect(up.result).toEqual({ bytes: GiB, sha256: blobSha256(GiB), clientId: 'worker' });
    const down = await peakRss(pid, () => get(url, GiB));
    expect(down.result).toEqual({ bytes: GiB, sha256: blobSha256(GiB) });
    const growth = Math.max(up.peak, down.peak) - baseline;
    console.log(
      `proxy RSS: baseline ${(baseline / MiB).toFixed(1)} MiB, peak PUT ${(up.peak / MiB).toFixed(1)} MiB, peak GET ${(down.peak / MiB).toFixed(1)} MiB`,
    );
    // Measured growth is 20-35 MiB (socket buffers and garbage not yet collected). Buffering even a
    // tenth of the 1 GiB body would add 100 MiB or more, so this bound tells streaming from buffering.
    expect(growth).toBeLessThan(96 * MiB);
  });
});
