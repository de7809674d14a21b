import { describe, expect, it } from 'vitest';
import { buildConfig, type WorkerConfigInput } from '../config.js';
import { CacheInstances } from '../caches/instances.js';
import { ImageUsage } from '../images/image-usage.js';
import { FakeDocker } from '../testing/fake-docker.js';
import { FakeClock } from '../testing/fake-clock.js';
import { fakeWorker } from '../testing/fake-worker.js';
import { Worker } from '../worker/worker.js';
import { betweenTasksGc } from './between-tasks.js';
import type { GcResult } from './image-gc.js';
import { GcEngine, recordingLog, sha } from './testing.js';

const POLL = 5_000;
const HOUR = 3_600_000;

function hook(config: WorkerConfigInput = {}) {
  const clock = new FakeClock();
  const engine = new GcEngine();
  const usage = ImageUsage.memory();
  const { log, lines } = recordingLog();
  const results: GcResult[] = [];
  const gc = betweenTasksGc({
    docker: { imageEngine: engine, dataRoot: async () => '/var/lib/docker' },
    usage,
    config: buildConfig({ pollingIntervalMs: POLL, ...config }),
    clock,
    log,
    freeBytes: engine.freeBytes,
    onResult: (r) => results.push(r),
  });
  return { clock, engine, usage, lines, results, gc };
}

describe('betweenTasksGc', () => {
  it('is off with garbageCollection.betweenTasks false', () => {
    expect(hook({ garbageCollection: { betweenTasks: false } }).gc).toBeUndefined();
  });

  it('collects at most once per garbageCollection.intervalSeconds (default 60 s)', async () => {
    const { clock, results, gc } = hook({ capacityManagement: { diskspaceThreshold: 0 } });
    await gc?.();
    await gc?.();
    await clock.advance(60_000 - 1);
    await gc?.();
    expect(results).toHaveLength(1);
    await clock.advance(1);
    await gc?.();
    expect(results).toHaveLength(2);
  });

  it('with intervalSeconds 0, at most once per pollingIntervalMs', async () => {
    const { clock, results, gc } = hook({
      capacityManagement: { diskspaceThreshold: 0 },
      garbageCollection: { intervalSeconds: 0 },
    });
    await gc?.();
    await clock.advance(POLL - 1);
    await gc?.();
    expect(results).toHaveLength(1);
    await clock.advance(1);
    await gc?.();
    expect(results).toHaveLength(2);
  });

  it('while the data root is short of space, once per pollingIntervalMs', async () => {
    const { clock, results, gc } = hook({ capacityManagement: { diskspaceThreshold: 0 } });
    await gc?.({ diskShort: false });
    await clock.advance(POLL - 1);
    await gc?.({ diskShort: true });
    expect(results).toHaveLength(1);
    await clock.advance(1);
    await gc?.({ diskShort: true });
    expect(results).toHaveLength(2);
    await clock.advance(POLL);
    await gc?.({ diskShort: false }); // space is back: the interval again
    expect(results).toHaveLength(2);
  });

  it("removes the worker's caches no run holds when the disk is still short after the images", async () => {
    const docker = new FakeDocker();
    const config = buildConfig({
      workerId: 'w1',
      cacheVolumePrefix: 'p-',
      capacityManagement: { diskspaceThreshold: 10_000 },
    });
    let free = 1_000;
    const { log, lines } = recordingLog();
    // A fresh hook each time (each collects at once).
    const gc = () =>
      betweenTasksGc({
        docker,
        usage: ImageUsage.memory(),
        config,
        clock: new FakeClock(),
        log,
        freeBytes: async () => free,
      })!;
    const labels = (name: string, workerId = 'w1') => ({
      'org.docker-worker.role': 'cache',
      'org.docker-worker.cache': name,
      'org.docker-worker.worker-id': workerId,
    });
    const instances = CacheInstances.of(docker);
    const held = await instances.lease('p-', 'held', labels('held'));
    await docker.createVolume('p-idle', labels('idle'));
    await docker.createVolume('q-other', labels('other', 'w2')); // another worker's
    await gc()({ diskShort: false }); // not short: nothing of the caches is touched
    expect(['p-held', 'p-idle', 'q-other'].every((v) => docker.resources.has(v))).toBe(true);
    free = 50_000;
    await gc()({ diskShort: true }); // short at the last check, but the images made room
    expect(docker.resources.has('p-idle')).toBe(true);
    free = 1_000;
    await gc()({ diskShort: true });
    expect(docker.resources.has('p-idle')).toBe(false);
    expect(docker.resources.has(held) && docker.resources.has('q-other')).toBe(true);
    expect(lines.at(-1)).toMatchObject({ volumes: ['p-idle'] });
  });

  it('never runs twice at once: a call while one runs waits for that one', async () => {
    const { engine, results, gc } = hook({ capacityManagement: { diskspaceThreshold: 0 } });
    let release = (): void => undefined;
    const list = engine.list.bind(engine);
    let lists = 0;
    engine.list = async () => {
      lists++;
      await new Promise<void>((r) => (release = r));
      return list();
    };
    const first = gc?.();
    const second = gc?.();
    expect(second).toBe(first);
    release();
    await Promise.all([first, second]);
    expect(lists).toBe(1);
    expect(results).toHaveLength(1);
  });

  it('a failing collection is logged and resolves (the worker goes on)', async () => {
    const { engine, lines, gc } = hook();
    engine.list = () => Promise.reject(new Error('connect ENOENT /var/run/docker.sock'));
    await expect(gc?.()).resolves.toBeUndefined();
    expect(lines.filter((l) => l.level === 40).map((l) => l.msg)).toEqual([
      'image gc failed; the worker goes on',
    ]);
  });
});

describe('Worker: the image GC between tasks', () => {
  let free = 0;
  function setup(capacity: number, diskspaceThreshold = 0) {
    const f = fakeWorker({
      config: { pollingIntervalMs: POLL, capacity, capacityManagement: { diskspaceThreshold } },
    });
    f.docker.script = { output: 'working\n' }; // containers run until the test ends them
    const calls: number[] = [];
    const diskShort: boolean[] = [];
    let called = (): void => undefined;
    const worker = new Worker({
      ...f.deps,
      freeBytes: async () => free,
      betweenTasks: async (state) => {
        calls.push(worker.status.running);
        diskShort.push(state.diskShort);
        called();
      },
    });
    const nextCall = () => new Promise<void>((r) => (called = r));
    return { f, worker, calls, nextCall, diskShort };
  }

  it('runs before claiming while no task runs, never while one does, and again once it ended', async () => {
    const { f, worker, calls, nextCall } = setup(1);
    f.memory.addClaim();
    const done = worker.run();
    const [id = ''] = await f.docker.untilStarted(1);
    expect(calls).toEqual([0]);
    await f.clock.advance(20 * POLL); // the task runs (and is reclaimed) a long while
    expect(calls).toEqual([0]);
    const after = nextCall();
    f.docker.exit(id, 0);
    await after;
    expect(calls).toEqual([0, 0]);
    worker.stop();
    expect((await done).map((r) => r.report)).toEqual(['completed']);
  });

  it('is told when the last disk check found the data root short of space', async () => {
    free = 1_000;
    const { f, worker, diskShort, nextCall } = setup(1, 10_000);
    const done = worker.run();
    let next = nextCall();
    await next; // the first round: no disk check yet
    next = nextCall();
    await f.clock.advance(POLL);
    await next; // after a check that found 1000 bytes < 10000
    free = 50_000;
    next = nextCall();
    await f.clock.advance(POLL);
    await next;
    next = nextCall();
    await f.clock.advance(POLL);
    await next; // after a check that found enough
    expect(diskShort).toEqual([false, true, true, false]);
    expect(f.memory.callsOf('claimWork').length).toBeGreaterThan(0);
    worker.stop();
    await f.clock.advance(POLL);
    await done;
  });

  it('with a free slot but a task running, claims without collecting', async () => {
    const { f, worker, calls } = setup(2);
    f.memory.addClaim();
    const done = worker.run();
    await f.docker.untilStarted(1);
    await f.memory.waitFor('claimWork', 2); // the second slot asked and got nothing
    await f.clock.advance(5 * POLL);
    expect(f.memory.callsOf('claimWork').length).toBeGreaterThan(2);
    expect(calls).toEqual([0]);
    worker.stop();
    for (const id of f.docker.running) f.docker.exit(id, 0);
    await done;
  });

  it('with the real hook, an expired image goes before the first claim', async () => {
    const f = fakeWorker({
      config: { pollingIntervalMs: POLL, capacityManagement: { diskspaceThreshold: 0 } },
    });
    const usage = ImageUsage.memory();
    const engine = f.docker.imageEngine;
    engine.loaded.set(sha(1), { id: sha(1), repoTags: ['old:1'], size: 1, created: 0 });
    await usage.touch({ id: sha(1), ref: 'old:1', source: 'pull', lastUsed: f.clock.now() - 3 * HOUR });
    const betweenTasks = betweenTasksGc({ ...f.deps, usage });
    f.memory.addClaim();
    f.docker.script = { output: '', exitCode: 0 };
    const results = await new Worker({ ...f.deps, ...(betweenTasks ? { betweenTasks } : {}) }).run({
      once: true,
    });
    expect(results.map((r) => r.report)).toEqual(['completed']);
    expect(engine.loaded.has(sha(1))).toBe(false);
    expect(usage.list()).toEqual([]);
    expect(f.logs.find((l) => l.msg === 'image gc: removed')).toMatchObject({
      ref: 'old:1',
      reason: 'expired',
    });
  });
});
