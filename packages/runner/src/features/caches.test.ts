import { describe, expect, it } from 'vitest';
import { FakeDocker } from '../testing/fake-docker.js';
import { fakeOutcome, fakeRun, startFeature } from '../testing/fake-run.js';
import { cache } from './caches.js';

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
});
