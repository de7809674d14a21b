// The purge-cache poll against a real fake-taskcluster (its purge-cache service: routes, scopes,
// `since`) through taskcluster-client, over FakeDocker's volumes and the cache leases.
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildConfig } from '../config.js';
import { FakeClock } from '../testing/fake-clock.js';
import { FakeDocker } from '../testing/fake-docker.js';
import { startFakeTaskcluster, type FakeTaskclusterHandle } from '../testing/fake-taskcluster.js';
import { taskclusterClients } from '../worker/taskcluster.js';
import { CacheInstances } from './instances.js';
import { cachePurgePoll } from './purge-requests.js';

const ADMIN = { clientId: 'admin', accessToken: 'admin-token-0123456789' };
const WORKER = { clientId: 'worker', accessToken: 'worker-token-0123456789' };
const POOL = 'proj/wt';

let tc: FakeTaskclusterHandle;
beforeAll(async () => {
  tc = await startFakeTaskcluster({
    clients: [
      { ...ADMIN, scopes: ['*'] },
      { ...WORKER, scopes: [`purge-cache:purge-requests::${POOL}`] },
      { clientId: 'nobody', accessToken: 'nobody-token-0123456789', scopes: [] },
    ],
  });
});
afterAll(() => tc.close());

const purgeCache = async (cacheName: string): Promise<void> => {
  // Anonymous: the fake answers as the service does (the scope names the body's cache).
  const res = await fetch(`${tc.rootUrl}/api/purge-cache/v1/purge-cache/${POOL}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ cacheName }),
  });
  expect(res.status).toBe(403);
  const taskcluster = ((await import('taskcluster-client' as string)) as { default: Record<string, never> })
    .default as unknown as {
    PurgeCache: new (o: unknown) => { purgeCache(pool: string, body: unknown): Promise<unknown> };
  };
  await new taskcluster.PurgeCache({ rootUrl: tc.rootUrl, credentials: ADMIN, retries: 0 }).purgeCache(POOL, {
    cacheName,
  });
};

function setup() {
  const docker = new FakeDocker();
  const clock = new FakeClock(Date.now());
  const config = buildConfig({
    taskQueueId: POOL,
    cacheVolumePrefix: 'p-',
    garbageCollection: { intervalSeconds: 60 },
  });
  const lines: Record<string, unknown>[] = [];
  const log = pino(
    { level: 'info' },
    { write: (l: string) => void lines.push(JSON.parse(l) as Record<string, unknown>) },
  );
  const labels = (name: string) => ({
    'org.docker-worker.managed': 'true',
    'org.docker-worker.role': 'cache',
    'org.docker-worker.cache': name,
  });
  return { docker, clock, config, log, lines, labels };
}

describe('cache purge requests', () => {
  it("removes this worker's instances made before the request, a held one at its release", async () => {
    const { docker, clock, config, log, labels } = setup();
    const instances = CacheInstances.of(docker);
    const held = await instances.lease('p-', 'c', labels('c')); // a running task's
    const free = await instances.lease('p-', 'c', labels('c'));
    await instances.release(free);
    await docker.createVolume('q-c', labels('c')); // another worker's prefix
    await docker.createVolume('p-other', labels('other'));
    const long = new Date(Date.now() - 3_600_000).toJSON();
    for (const v of [held, free, 'q-c', 'p-other']) docker.resources.get(v)!.created = long;
    await purgeCache('c');
    const poll = cachePurgePoll({
      docker,
      clients: await taskclusterClients(tc.rootUrl),
      config,
      clock,
      log,
    })!;
    await poll(WORKER);
    expect(docker.resources.has(free)).toBe(false);
    expect(docker.resources.has(held)).toBe(true); // its task still runs
    expect(docker.resources.has('q-c') && docker.resources.has('p-other')).toBe(true);
    await instances.release(held);
    expect(docker.resources.has(held)).toBe(false);
    // Made after the request: kept, also when the request is seen again.
    const fresh = await instances.lease('p-', 'c', labels('c'));
    await instances.release(fresh);
    await clock.advance(60_000);
    await poll(WORKER);
    expect(docker.resources.has(fresh)).toBe(true);
  });

  it('asks at most once per garbageCollection.intervalSeconds, since five minutes before the last answer; a refusal does not throw', async () => {
    const { docker, clock, config, log, lines } = setup();
    const clients = await taskclusterClients(tc.rootUrl);
    const poll = cachePurgePoll({ docker, clients, config, clock, log })!;
    const asks = () =>
      tc.requests.filter(
        (r) => r.method === 'GET' && decodeURIComponent(r.path).includes(`/purge-cache/${POOL}`),
      );
    const before = asks().length;
    await poll(WORKER);
    await poll(WORKER);
    expect(asks().length).toBe(before + 1);
    expect(asks().at(-1)?.path).not.toContain('since=');
    await clock.advance(60_000);
    await poll(WORKER);
    const since = new URL(asks().at(-1)!.path, tc.rootUrl).searchParams.get('since');
    expect(Date.parse(since!)).toBe(clock.now() - 60_000 - 5 * 60_000);
    // Without the scope: 403, warned, and claims go on.
    await clock.advance(60_000);
    await poll({ clientId: 'nobody', accessToken: 'nobody-token-0123456789' });
    expect(asks().at(-1)?.status).toBe(403);
    expect(lines.at(-1)).toMatchObject({
      msg: 'the purge-cache service did not answer: no caches purged this time',
    });
  });
});
