import { describe, expect, it } from 'vitest';
import { FakeDocker } from '../testing/fake-docker.js';
import { fakeRun } from '../testing/fake-run.js';
import { cache } from './caches.js';

const outcome = (exitCode: number) =>
  ({ state: 'failed', reasonResolved: 'failed', exitCode, durationMs: 1 }) as const;

describe('caches', () => {
  it('mounts labelled named volumes and purges them after a purgeCaches exit, once the run is cleaned up', async () => {
    const docker = new FakeDocker();
    const { run } = fakeRun({
      docker,
      payload: { cache: { 'level-1-a': '/a' }, onExitStatus: { purgeCaches: [5] } },
      config: { cacheVolumePrefix: 'p-' },
    });
    expect(await cache.start(run)).toEqual({ binds: ['p-level-1-a:/a'] });
    expect(docker.resources.get('p-level-1-a')?.labels).toMatchObject({
      'org.docker-worker.role': 'cache',
      'org.docker-worker.cache': 'level-1-a',
    });
    await cache.stop(run, outcome(5));
    expect(docker.resources.has('p-level-1-a')).toBe(true); // the container may still use it
    await run.removeEverything();
    expect(docker.resources.has('p-level-1-a')).toBe(false);
  });

  it('keeps caches after other exits', async () => {
    const docker = new FakeDocker();
    const { run } = fakeRun({ docker, payload: { cache: { c: '/c' }, onExitStatus: { purgeCaches: [5] } } });
    await cache.start(run);
    await cache.stop(run, outcome(1));
    await run.removeEverything();
    expect([...docker.resources.values()].map((r) => r.labels['org.docker-worker.role'])).toEqual(['cache']);
  });
});
