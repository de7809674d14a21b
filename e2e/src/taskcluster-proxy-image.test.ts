// The docker-worker/taskcluster-proxy image on a test-created network under the alias
// `taskcluster`, signing for fake-taskcluster (started from its built CLI on 0.0.0.0 and reached
// through that network's gateway). A second container on the network is the task.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demux, docker, labels, newSession, removeByLabel, runToEnd, TEST_LABEL } from './docker.js';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const FAKE_CLI = join(ROOT, 'packages/fake-taskcluster/dist/cli.js');
const IMAGE = 'docker-worker/taskcluster-proxy:latest';
const NODE = 'node:20-bookworm-slim';
const WORKER = {
  clientId: 'worker',
  accessToken: 'worker-token-0123456789abcdef',
  scopes: ['auth:current-scopes', 'queue:*', 'secrets:*'],
};
const TASK_SCOPES = ['auth:current-scopes', 'queue:get-task:abc'];
const SECRET = 'e2e-secret-0123456789';

const session = newSession();
let fake: ChildProcess | undefined;
let dir: string;
let network: string;
let proxyId: string;

function startFake(clientsFile: string): Promise<string> {
  const proc = spawn(
    process.execPath,
    [FAKE_CLI, '--host', '0.0.0.0', '--port', '0', '--clients-file', clientsFile],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  fake = proc;
  let out = '';
  return new Promise((resolveUrl, reject) => {
    proc.stderr.on('data', (c: Buffer) => (out += c.toString()));
    proc.once('exit', (code) => reject(new Error(`fake-taskcluster exited (${code}): ${out}`)));
    proc.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /^(http:\/\/\S+)$/m.exec(out);
      if (m) resolveUrl(m[1] as string);
    });
  });
}

/** Runs `script` with node in a container on the test network; returns its parsed stdout. */
async function inTask(script: string): Promise<unknown> {
  const { exitCode, output } = await runToEnd({ image: NODE, cmd: ['node', '-e', script], session, network });
  expect(exitCode, output).toBe(0);
  return JSON.parse(output.trim().split('\n').at(-1) as string);
}

const waitForProxy = `
  async function ready() {
    const until = Date.now() + 30000;
    for (;;) {
      try { if ((await fetch('http://taskcluster/__health')).ok) return; } catch {}
      if (Date.now() > until) throw new Error('proxy not ready');
      await new Promise((r) => setTimeout(r, 200));
    }
  }`;

describe('taskcluster-proxy image', () => {
  beforeAll(async () => {
    if (!existsSync(FAKE_CLI))
      throw new Error(`${FAKE_CLI} is missing: run \`npx nx build fake-taskcluster\` first`);
    dir = mkdtempSync(join(tmpdir(), 'tc-proxy-e2e-'));
    writeFileSync(join(dir, 'clients.json'), JSON.stringify({ clients: [WORKER] }));
    const net = await docker.createNetwork({ Name: `dw-tcproxy-${session}`, Labels: labels(session) });
    network = net.id;
    const info = (await net.inspect()) as { IPAM: { Config: { Gateway?: string }[] } };
    const gateway = info.IPAM.Config.find((c) => c.Gateway)?.Gateway;
    if (!gateway) throw new Error('the test network has no gateway address');
    const rootUrl = (await startFake(join(dir, 'clients.json'))).replace('127.0.0.1', gateway);
    const proxy = await docker.createContainer({
      Image: IMAGE,
      Cmd: ['--root-url', rootUrl, ...TASK_SCOPES],
      Env: [
        `TASKCLUSTER_CLIENT_ID=${WORKER.clientId}`,
        `TASKCLUSTER_ACCESS_TOKEN=${WORKER.accessToken}`,
        `TASKCLUSTER_PROXY_CREDENTIALS_SECRET=${SECRET}`,
      ],
      Labels: labels(session),
      HostConfig: { NetworkMode: network },
      NetworkingConfig: { EndpointsConfig: { [network]: { Aliases: ['taskcluster'] } } },
    });
    proxyId = proxy.id;
    await proxy.start();
  });

  afterAll(async () => {
    fake?.kill('SIGTERM');
    await removeByLabel(session);
    rmSync(dir, { recursive: true, force: true });
    const left = await docker.listContainers({
      all: true,
      filters: JSON.stringify({ label: [`${TEST_LABEL}=${session}`] }),
    });
    expect(left).toHaveLength(0);
  });

  it('lets a task reach http://taskcluster/queue/v1/ping and see exactly its own scopes', async () => {
    const result = await inTask(`${waitForProxy}
      (async () => {
        await ready();
        const ping = await fetch('http://taskcluster/queue/v1/ping');
        const scopes = await fetch('http://taskcluster/auth/v1/scopes/current');
        console.log(JSON.stringify({ ping: ping.status, alive: (await ping.json()).alive, status: scopes.status, body: await scopes.json(),
          endpoint: scopes.headers.get('x-taskcluster-endpoint'), clientId: scopes.headers.get('x-taskcluster-proxy-perm-clientid') }));
      })().catch((e) => { console.error(String(e)); process.exit(1); });`);
    expect(result).toMatchObject({
      ping: 200,
      alive: true,
      status: 200,
      body: { scopes: ['assume:anonymous', ...TASK_SCOPES] },
      clientId: 'worker',
    });
    expect((result as { endpoint: string }).endpoint).toMatch(
      /^http:\/\/[\d.]+:\d+\/api\/auth\/v1\/scopes\/current$/,
    );
  });

  it('refuses PUT /credentials from the task, which does not have the secret', async () => {
    const result = await inTask(`${waitForProxy}
      (async () => {
        await ready();
        const r = await fetch('http://taskcluster/credentials', { method: 'PUT', body: JSON.stringify({ clientId: 'evil', accessToken: 'x'.repeat(22) }) });
        const who = await fetch('http://taskcluster/auth/v1/scopes/current');
        console.log(JSON.stringify({ status: r.status, clientId: who.headers.get('x-taskcluster-proxy-perm-clientid') }));
      })().catch((e) => { console.error(String(e)); process.exit(1); });`);
    expect(result).toEqual({ status: 401, clientId: 'worker' });
  });

  it('logs one JSON line per proxied request and no secret', async () => {
    const logs = demux(
      (await docker.getContainer(proxyId).logs({ stdout: true, stderr: true })) as unknown as Buffer,
    );
    const proxied = logs
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l.msg === 'proxied');
    expect(proxied.map((l) => [l.method, l.status])).toEqual(expect.arrayContaining([['GET', 200]]));
    for (const line of proxied)
      expect(line).toMatchObject({ target: expect.stringMatching(/^http:\/\//), ms: expect.any(Number) });
    expect(logs).not.toContain(WORKER.accessToken);
    expect(logs).not.toContain(SECRET);
  });
});
