import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import taskcluster from 'taskcluster-client';
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeTaskcluster } from '../server.js';
import type { FakeTaskcluster } from '../server.js';
import { staticSecret } from '../worker-manager/worker-manager.js';
import { ADMIN } from './harness.js';
import { startWorkerRunner } from './worker-runner.js';
import type { WorkerRunner, WorkerRunnerOptions } from './worker-runner.js';
import { genericWorkerConfig, mergeConfig } from './worker-config.js';
import { parseLine } from './worker-protocol.js';

const FAKE_WORKER = fileURLToPath(new URL('./fake-generic-worker.mjs', import.meta.url));
const POOL = 'prov/wt';
const SECRET = staticSecret();

let tc: FakeTaskcluster | undefined;
let runner: WorkerRunner | undefined;
afterEach(async () => {
  await runner?.close();
  await tc?.close();
  runner = undefined;
  tc = undefined;
});

async function start(ttl: number, o: Partial<WorkerRunnerOptions> = {}): Promise<WorkerRunner> {
  tc = await startFakeTaskcluster({
    clients: [ADMIN],
    claimWorkWaitMs: 50,
    workerCredentialsTtlSeconds: ttl,
    workerPools: [{ workerPoolId: POOL, workerConfig: { capacity: 2, list: ['pool'], shared: { pool: 1 } } }],
    staticWorkers: [{ workerPoolId: POOL, workerGroup: 'wg', workerId: 'w1', staticSecret: SECRET }],
  });
  runner = await startWorkerRunner({
    rootUrl: tc.rootUrl,
    workerPoolId: POOL,
    workerGroup: 'wg',
    workerId: 'w1',
    staticSecret: SECRET,
    workerPath: FAKE_WORKER,
    extraConfig: { list: ['runner'], shared: { runner: 1 }, capacity: 1 },
    ...o,
  });
  return runner;
}

const workerState = (t: FakeTaskcluster) => t.workerManager.worker(POOL, 'wg', 'w1')?.state;

describe('startWorkerRunner', () => {
  it('registers, writes the config, speaks the protocol both ways, renews credentials, removes the worker on exit', async () => {
    const r = await start(8, { renewBeforeSeconds: 6 });
    const config = JSON.parse(readFileSync(r.configFile, 'utf8')) as Record<string, unknown>;
    expect(config).toMatchObject({
      rootURL: tc!.rootUrl,
      clientId: 'worker/static/prov/wt/wg/w1',
      provisionerId: 'prov',
      workerType: 'wt',
      workerGroup: 'wg',
      workerId: 'w1',
      publicIP: '127.0.0.1',
      privateIP: '127.0.0.1',
      instanceType: 'static',
      instanceID: 'w1',
      region: 'local',
      availabilityZone: 'local',
      workerLocation: '{"cloud":"static"}',
      workerTypeMetadata: { 'instance-id': 'w1' },
      capacity: 2, // the pool's workerConfig wins over the runner's
      list: ['runner', 'pool'], // arrays concatenate
      shared: { runner: 1, pool: 1 }, // objects merge
    });
    expect(typeof config.accessToken).toBe('string');
    expect(JSON.parse(config.certificate as string)).toMatchObject({
      issuer: 'static/taskcluster/worker-manager',
    });

    await r.waitForLog(/fake worker wg\/w1 starting as worker\/static\/prov\/wt\/wg\/w1/);
    const hello = await r.waitForMessage('hello');
    expect(hello.capabilities).toEqual(['graceful-termination', 'new-credentials', 'log', 'shutdown']);
    expect([...r.agreed].sort()).toEqual(['graceful-termination', 'log', 'new-credentials', 'shutdown']);
    const log = await r.waitForMessage('log');
    expect(log.body).toMatchObject({ textPayload: 'hello from the worker', config: { workerId: 'w1' } });

    // renewal at expiry − 6 s = 2 s after registration: reregisterWorker, then new-credentials, echoed
    const echo = await r.waitForMessage(
      'log',
      (m) => (m.body as { echo?: unknown }).echo !== undefined,
      8000,
    );
    const sent = (echo.body as { echo: Record<string, string> }).echo;
    expect(sent).toMatchObject({ type: 'new-credentials', 'client-id': 'worker/static/prov/wt/wg/w1' });
    expect(sent['access-token']).not.toBe(config.accessToken);
    expect(r.credentialsRenewed).toBe(1);
    expect(r.credentials.accessToken).toBe(sent['access-token']);
    await r.waitForLog(/^new credentials for worker\/static\/prov\/wt\/wg\/w1$/);
    const reregisters = tc!.requests.filter((q) => q.path === '/api/worker-manager/v1/worker/reregister');
    expect(reregisters.map((q) => [q.status, q.clientId])).toEqual([[200, 'worker/static/prov/wt/wg/w1']]);
    // the renewed credentials work against the queue
    const queue = new taskcluster.Queue({ rootUrl: tc!.rootUrl, credentials: r.credentials, retries: 0 });
    await expect(queue.claimWork(POOL, { workerGroup: 'wg', workerId: 'w1', tasks: 1 })).resolves.toEqual({
      tasks: [],
    });

    expect(workerState(tc!)).toBe('running');
    await r.gracefulTermination(true);
    expect(await r.exited).toBe(0);
    expect(r.logs).toContain('graceful termination, finish-tasks=true');
    expect(r.removed).toBe(true);
    expect(r.errors).toEqual([]);
    expect(workerState(tc!)).toBe('stopped');
    const removal = tc!.requests.find((q) => q.method === 'DELETE');
    expect(removal).toMatchObject({ path: '/api/worker-manager/v1/workers/prov%2Fwt/wg/w1', status: 200 });
  });

  it('a shutdown message removes the worker while it still runs', async () => {
    const r = await start(3600, { env: { FAKE_WORKER_SHUTDOWN: '1' } });
    await r.waitForMessage('shutdown');
    await expect.poll(() => workerState(tc!)).toBe('stopped');
    expect(r.child.exitCode).toBeNull();
    await r.gracefulTermination(false);
    expect(await r.exited).toBe(0);
    expect(r.logs).toContain('graceful termination, finish-tasks=false');
    expect(tc!.requests.filter((q) => q.method === 'DELETE')).toHaveLength(1);
  });

  it('only sends what both sides agreed: without new-credentials, renewal becomes graceful-termination', async () => {
    const r = await start(8, {
      renewBeforeSeconds: 7,
      env: { FAKE_WORKER_CAPABILITIES: 'graceful-termination' },
    });
    await r.waitForMessage('hello');
    expect([...r.agreed]).toEqual(['graceful-termination']);
    expect(await r.exited).toBe(0);
    expect(r.logs).toContain('graceful termination, finish-tasks=false');
    expect(r.credentialsRenewed).toBe(0);
    expect(r.messages.map((m) => m.type)).toEqual(['hello']); // no log messages: not agreed
    expect(workerState(tc!)).toBe('stopped');
  });

  it('refuses graceful termination the worker did not agree to, and a wrong static secret at registration', async () => {
    const r = await start(3600, { env: { FAKE_WORKER_CAPABILITIES: 'log' } });
    await expect(r.gracefulTermination(true)).rejects.toThrow(/did not agree to graceful-termination/);
    await r.close();
    await expect(
      startWorkerRunner({
        rootUrl: tc!.rootUrl,
        workerPoolId: POOL,
        workerGroup: 'wg',
        workerId: 'w1',
        staticSecret: staticSecret(),
        workerPath: FAKE_WORKER,
      }),
    ).rejects.toMatchObject({ statusCode: 400, code: 'InputError' });
  });
});

describe('protocol and config helpers', () => {
  it('parses only ~{...} lines with a string type as messages', () => {
    expect(parseLine('~{"type":"hello","capabilities":[]}')).toEqual({ type: 'hello', capabilities: [] });
    for (const line of ['hello', '~{"no":"type"}', '~{"type":1}', '~{bad}', '~[1]', '~{"type":"x"} trailing'])
      expect(parseLine(line)).toBeUndefined();
  });

  it('unwraps {genericWorker: {config}} and lets the required settings win', () => {
    expect(mergeConfig({ a: [1], b: { c: 1 } }, { a: [2], b: { d: 2 }, e: 3 })).toEqual({
      a: [1, 2],
      b: { c: 1, d: 2 },
      e: 3,
    });
    const config = genericWorkerConfig({
      rootUrl: 'http://tc/',
      workerPoolId: 'p/w',
      workerGroup: 'g',
      workerId: 'i',
      credentials: { clientId: 'c', accessToken: 't' },
      base: { workerId: 'ignored' },
      poolConfig: { genericWorker: { config: { x: 1 }, files: [] } },
      providerMetadata: {},
      workerLocation: { region: 'r' },
    });
    expect(config).toEqual({
      x: 1,
      workerLocation: '{"cloud":"static","region":"r"}',
      workerTypeMetadata: {},
      rootURL: 'http://tc',
      clientId: 'c',
      accessToken: 't',
      provisionerId: 'p',
      workerType: 'w',
      workerGroup: 'g',
      workerId: 'i',
    });
  });
});
