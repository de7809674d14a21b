import taskcluster from 'taskcluster-client';
import type { Credentials } from 'taskcluster-client';
import { afterEach, describe, expect, it } from 'vitest';
import { ADMIN } from '../testing/harness.js';
import { signedFetch } from '../testing/signed-fetch.js';
import { startFakeTaskcluster } from '../server.js';
import type { FakeTaskcluster, FakeTaskclusterOptions } from '../server.js';
import { staticSecret } from './worker-manager.js';

const POOL = 'prov/wt';
const OTHER_POOL = 'prov/other';
const SECRET = staticSecret();
const W = { workerPoolId: POOL, workerGroup: 'wg', workerId: 'w1' };

let tc: FakeTaskcluster | undefined;
afterEach(async () => {
  await tc?.close();
  tc = undefined;
});

async function start(o: Partial<FakeTaskclusterOptions> = {}): Promise<FakeTaskcluster> {
  tc = await startFakeTaskcluster({
    clients: [ADMIN],
    claimWorkWaitMs: 50,
    workerPools: [
      { workerPoolId: POOL, workerConfig: { capacity: 2, nested: { a: 1 } } },
      { workerPoolId: OTHER_POOL },
    ],
    staticWorkers: [{ ...W, staticSecret: SECRET }],
    ...o,
  });
  return tc;
}

const wm = (t: FakeTaskcluster, credentials?: Credentials) =>
  new taskcluster.WorkerManager({ rootUrl: t.rootUrl, retries: 0, ...(credentials ? { credentials } : {}) });
const queue = (t: FakeTaskcluster, credentials: Credentials) =>
  new taskcluster.Queue({ rootUrl: t.rootUrl, credentials, retries: 0 });
const register = (t: FakeTaskcluster, secret = SECRET) =>
  wm(t).registerWorker({ ...W, providerId: 'static', workerIdentityProof: { staticSecret: secret } });
const claimBody = { workerGroup: 'wg', workerId: 'w1', tasks: 1 };

async function refusal(p: Promise<unknown>): Promise<{ statusCode: number; code: string; message: string }> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeDefined();
  return err as { statusCode: number; code: string; message: string };
}

describe('worker-manager', () => {
  it('registerWorker: credentials named after the worker that claim work in its pool only', async () => {
    const t = await start();
    const reg = await register(t);
    expect(reg.credentials.clientId).toBe('worker/static/prov/wt/wg/w1');
    expect(reg.workerConfig).toEqual({ capacity: 2, nested: { a: 1 } });
    expect(reg.secret).toMatch(/^[a-zA-Z0-9_-]{44}$/);
    expect(Date.parse(reg.expires) - Date.now()).toBeGreaterThan(95 * 3600 * 1000);
    const cert = JSON.parse(reg.credentials.certificate ?? '') as { scopes: string[]; issuer: string };
    expect(cert.issuer).toBe('static/taskcluster/worker-manager');
    expect(cert.scopes).toEqual(
      expect.arrayContaining([
        'assume:worker-pool:prov/wt',
        'assume:worker-id:wg/w1',
        'queue:claim-work:prov/wt',
        'queue:worker-id:wg/w1',
        'worker-manager:remove-worker:prov/wt/wg/w1',
        'worker-manager:reregister-worker:prov/wt/wg/w1',
        'worker-manager:should-worker-terminate:prov/wt/wg/w1',
      ]),
    );

    const q = queue(t, reg.credentials);
    await expect(q.claimWork(POOL, claimBody)).resolves.toEqual({ tasks: [] });
    const other = await refusal(q.claimWork(OTHER_POOL, claimBody));
    expect([other.statusCode, other.code]).toEqual([403, 'InsufficientScopes']);
    const otherId = await refusal(q.claimWork(POOL, { ...claimBody, workerId: 'w2' }));
    expect(otherId.statusCode).toBe(403);
    expect(t.requests.find((r) => r.path === '/api/worker-manager/v1/worker/register')?.scheme).toBe('none');
  });

  it('registerWorker refuses a wrong static secret, unknown pools, workers and providers as upstream', async () => {
    const t = await start();
    const bad = await refusal(register(t, staticSecret()));
    expect([bad.statusCode, bad.code]).toEqual([400, 'InputError']);
    expect(bad.message).toContain('bad staticSecret in workerIdentityProof');

    const body = { ...W, providerId: 'static', workerIdentityProof: { staticSecret: SECRET } };
    const noPool = await refusal(wm(t).registerWorker({ ...body, workerPoolId: 'prov/nope' }));
    expect([noPool.statusCode, noPool.code]).toEqual([404, 'ResourceNotFound']);
    const noWorker = await refusal(wm(t).registerWorker({ ...body, workerId: 'w9' }));
    expect(noWorker.message).toContain('Worker wg/w9 in worker pool prov/wt does not exist');
    const noProvider = await refusal(wm(t).registerWorker({ ...body, providerId: 'aws' }));
    expect([noProvider.statusCode, noProvider.message]).toEqual([
      404,
      expect.stringContaining('Provider aws'),
    ]);

    const schema = await refusal(wm(t).registerWorker({ ...body, workerIdentityProof: { secret: SECRET } }));
    expect([schema.statusCode, schema.code]).toEqual([400, 'InputValidationError']);
    const extra = await refusal(wm(t).registerWorker({ ...body, extra: 1 }));
    expect(extra.code).toBe('InputValidationError');
  });

  it('reregisterWorker rotates the secret: the old one is refused afterwards', async () => {
    const t = await start();
    const reg = await register(t);
    const client = wm(t, reg.credentials);
    const body = { ...W, secret: reg.secret };
    const re = await client.reregisterWorker(body);
    expect(re.secret).not.toBe(reg.secret);
    expect(re.credentials.clientId).toBe('worker/static/prov/wt/wg/w1');
    expect(re.credentials.accessToken).not.toBe(reg.credentials.accessToken);
    const old = await refusal(client.reregisterWorker(body));
    expect([old.statusCode, old.code]).toEqual([400, 'InputError']);
    expect(old.message).toContain('Could not generate credentials for this secret');
    await expect(wm(t, re.credentials).reregisterWorker({ ...W, secret: re.secret })).resolves.toBeDefined();

    const anon = await refusal(wm(t).reregisterWorker({ ...W, secret: re.secret }));
    expect([anon.statusCode, anon.code]).toEqual([403, 'InsufficientScopes']);
    const otherWorker = await refusal(client.reregisterWorker({ ...W, workerId: 'w2', secret: re.secret }));
    expect(otherWorker.statusCode).toBe(403);
  });

  it('removeWorker stops the worker: listed as stopped, no more (re)registration', async () => {
    const t = await start();
    const reg = await register(t);
    const admin = wm(t, ADMIN);
    const before = await admin.listWorkersForWorkerPool(POOL);
    expect(before.workers).toEqual([
      expect.objectContaining({ ...W, providerId: 'static', state: 'running' }),
    ]);

    const stranger = await refusal(wm(t).removeWorker(POOL, 'wg', 'w1'));
    expect(stranger.statusCode).toBe(403);
    await expect(wm(t, reg.credentials).removeWorker(POOL, 'wg', 'w1')).resolves.toEqual({});
    expect((await admin.listWorkersForWorkerPool(POOL)).workers[0]).toMatchObject({ state: 'stopped' });
    expect((await admin.listWorkersForWorkerPool(POOL, { state: 'running' })).workers).toEqual([]);
    expect(t.workerManager.worker(POOL, 'wg', 'w1')?.state).toBe('stopped');

    const again = await refusal(register(t));
    expect(again.message).toContain('worker is not running');
    const re = await refusal(wm(t, reg.credentials).reregisterWorker({ ...W, secret: reg.secret }));
    expect(re.statusCode).toBe(400);
    const gone = await refusal(admin.removeWorker(POOL, 'wg', 'nope'));
    expect([gone.statusCode, gone.code]).toEqual([404, 'ResourceNotFound']);
    const noPool = await refusal(admin.listWorkersForWorkerPool('prov/nope'));
    expect(noPool.statusCode).toBe(404);
  });

  it('shouldWorkerTerminate answers the decision, scoped to the worker', async () => {
    const t = await start();
    const reg = await register(t);
    const url = `${t.rootUrl}/api/worker-manager/v1/workers/prov%2Fwt/wg/w1/should-terminate`;
    const res = await signedFetch(url, reg.credentials);
    expect([res.status, await res.json()]).toEqual([200, { terminate: false, reason: 'none' }]);
    t.workerManager.setShouldTerminate(POOL, 'wg', 'w1', { terminate: true, reason: 'over capacity' });
    expect(await (await signedFetch(url, reg.credentials)).json()).toEqual({
      terminate: true,
      reason: 'over capacity',
    });
    const other = await signedFetch(url.replace('/w1/', '/w2/'), reg.credentials);
    expect(other.status).toBe(403);
  });

  it('worker credentials expire after workerCredentialsTtlSeconds (plus the 5 min skew): the queue refuses them', async () => {
    let now = Date.now();
    const t = await start({ now: () => now, workerCredentialsTtlSeconds: 8 });
    const reg = await register(t);
    expect(Date.parse(reg.expires) - now).toBe(8000);
    await expect(queue(t, reg.credentials).claimWork(POOL, claimBody)).resolves.toEqual({ tasks: [] });
    now += 8000 + 5 * 60 * 1000 + 1000;
    const expired = await refusal(queue(t, reg.credentials).claimWork(POOL, claimBody));
    expect([expired.statusCode, expired.code]).toEqual([401, 'AuthenticationFailed']);
  });
});
