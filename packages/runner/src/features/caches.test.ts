import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordingLog } from '../gc/testing.js';
import { startFakeTaskcluster, type FakeTaskclusterHandle } from '../testing/fake-taskcluster.js';
import { taskclusterClients } from '../worker/taskcluster.js';
import { FakeDocker } from '../testing/fake-docker.js';
import { fakeOutcome, fakeRun, startFeature } from '../testing/fake-run.js';
import { cache } from './caches.js';
import type { TaskRun } from './feature.js';

/** Runs of one task with cache `c` (prefix `p-`) on `docker`. */
const runsOn = (docker: FakeDocker, onExitStatus?: { purgeCaches: number[] }) => (): TaskRun =>
  fakeRun({
    docker,
    scopes: ['docker-worker:cache:c'],
    payload: { cache: { c: '/c' }, ...(onExitStatus ? { onExitStatus } : {}) },
    config: { cacheVolumePrefix: 'p-' },
  }).run;

const outcome = (exitCode: number) => fakeOutcome({ state: 'failed', reasonResolved: 'failed', exitCode });

describe('caches', () => {
  it('mounts labelled named volumes and purges them after a purgeCaches exit, once the run is cleaned up', async () => {
    const docker = new FakeDocker();
    const { run } = fakeRun({
      docker,
      scopes: ['docker-worker:cache:level-1-*'],
      payload: { cache: { 'level-1-a': '/a' }, onExitStatus: { purgeCaches: [5] } },
      config: { cacheVolumePrefix: 'p-' },
    });
    const handle = await startFeature(cache, run);
    expect(handle.contribution).toEqual({ binds: ['p-level-1-a:/a'] });
    expect(docker.resources.get('p-level-1-a')?.labels).toMatchObject({
      'org.docker-worker.role': 'cache',
      'org.docker-worker.cache': 'level-1-a',
    });
    await handle.stop(outcome(5));
    expect(docker.resources.has('p-level-1-a')).toBe(true); // the container may still use it
    await run.removeEverything();
    await handle.afterCleanup(outcome(5));
    expect(docker.resources.has('p-level-1-a')).toBe(false);
  });

  it('keeps caches after other exits', async () => {
    const docker = new FakeDocker();
    // The pool-suffixed form of the scope (the worker pool id is the task queue id).
    const { run } = fakeRun({
      docker,
      scopes: ['docker-worker:cache:c:docker-worker/local'],
      payload: { cache: { c: '/c' }, onExitStatus: { purgeCaches: [5] } },
    });
    const handle = await startFeature(cache, run);
    await handle.stop(outcome(1));
    await run.removeEverything();
    await handle.afterCleanup(outcome(1));
    expect([...docker.resources.values()].map((r) => r.labels['org.docker-worker.role'])).toEqual(['cache']);
  });

  it('gives runs at the same time an instance each, reusing the first one once it is free again', async () => {
    const docker = new FakeDocker();
    const runOf = runsOn(docker);
    const [a, b] = [runOf(), runOf()];
    const [ha, hb] = await Promise.all([startFeature(cache, a), startFeature(cache, b)]);
    const volumeOf = (h: typeof ha): string => (h.contribution.binds?.[0] ?? '').split(':')[0] ?? '';
    const [va, vb] = [volumeOf(ha), volumeOf(hb)];
    expect(va).toBe('p-c');
    expect(vb).toMatch(/^p-c--[0-9a-f]{8}$/);
    expect(docker.resources.get(vb)?.labels).toMatchObject({
      'org.docker-worker.role': 'cache',
      'org.docker-worker.cache': 'c',
    });
    // The lease ends once the run's containers are removed (finish comes after the removal starts).
    await a.removeEverything();
    await ha.finish(outcome(0));
    await new Promise((r) => setImmediate(r));
    const c = runOf();
    expect((await startFeature(cache, c)).contribution.binds).toEqual(['p-c:/c']);
    // b still holds its instance: a fourth run gets neither.
    const d = runOf();
    const vd = ((await startFeature(cache, d)).contribution.binds?.[0] ?? '').split(':')[0];
    expect([va, vb]).not.toContain(vd);
    // Both instances stay on the engine: caches outlive their runs.
    expect(docker.resources.has(va) && docker.resources.has(vb)).toBe(true);
  });

  it('a purge removes the instance the run used, not one another run holds', async () => {
    const docker = new FakeDocker();
    const runOf = runsOn(docker, { purgeCaches: [5] });
    const [a, b] = [runOf(), runOf()];
    const [ha, hb] = [await startFeature(cache, a), await startFeature(cache, b)];
    const vb = (hb.contribution.binds?.[0] ?? '').split(':')[0]!;
    await a.removeEverything();
    await ha.afterCleanup(outcome(5));
    expect(docker.resources.has('p-c')).toBe(false);
    expect(docker.resources.has(vb)).toBe(true);
    // The purged name is free again: the next run makes a fresh, empty first instance.
    const c = runOf();
    expect((await startFeature(cache, c)).contribution.binds).toEqual(['p-c:/c']);
    expect(docker.resources.has('p-c')).toBe(true);
  });
});

describe('caches granted through a role', () => {
  const WORKER = { clientId: 'worker', accessToken: 'worker-token-0123456789' };
  const LESSER = { clientId: 'lesser', accessToken: 'lesser-token-0123456789' };
  let tc: FakeTaskclusterHandle;
  beforeAll(async () => {
    tc = await startFakeTaskcluster({
      clients: [
        { ...WORKER, scopes: ['auth:expand-scopes'] },
        { ...LESSER, scopes: [] },
      ],
      roles: [{ roleId: 'project:x:caches', scopes: ['docker-worker:cache:x-*'] }],
    });
  });
  afterAll(() => tc.close());

  const runWith = async (credentials: typeof WORKER | undefined) => {
    const clients = await taskclusterClients(tc.rootUrl);
    const { log, lines } = recordingLog();
    const { run } = fakeRun({
      docker: new FakeDocker(),
      log,
      scopes: ['assume:project:x:caches'],
      payload: { cache: { 'x-checkouts': '/c' } },
      ...(credentials ? { expandScopes: (s: string[]) => clients.expandScopes!(credentials, s) } : {}),
    });
    return { run, lines };
  };

  it("accepts a cache scope the task's assume: scope grants, as docker-worker expanded them", async () => {
    const { run } = await runWith(WORKER);
    expect((await startFeature(cache, run)).contribution.binds).toEqual([
      'docker-worker-cache-x-checkouts:/c',
    ]);
  });

  it("refuses it on the task's own scopes: without an expansion, or when the worker may not expand (warned)", async () => {
    const { run: plain } = await runWith(undefined);
    await expect(startFeature(cache, plain)).rejects.toThrow(/docker-worker:cache:x-checkouts/);
    const { run, lines } = await runWith(LESSER);
    await expect(startFeature(cache, run)).rejects.toThrow(/docker-worker:cache:x-checkouts/);
    expect(lines.map((l) => l.msg)).toContain(
      "expanding the task's roles failed: its own scopes are checked",
    );
  });
});
