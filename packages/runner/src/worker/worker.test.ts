import { describe, expect, it } from 'vitest';
import type { WorkerConfigInput } from '../config.js';
import { fakeWorker, type FakeWorker } from '../testing/fake-worker.js';
import { httpError, type QueueCall } from '../testing/memory-queue.js';
import type { Claim } from './taskcluster.js';
import { Worker } from './worker.js';

const POLL = 5_000;

function setup(config: WorkerConfigInput = {}, freeBytes?: () => Promise<number>) {
  const f = fakeWorker({
    config: { pollingIntervalMs: POLL, capacityManagement: { diskspaceThreshold: 0 }, ...config },
  });
  f.docker.script = { output: 'working\n' }; // containers run until the test ends them
  const worker = new Worker({ ...f.deps, ...(freeBytes ? { freeBytes } : {}) });
  return { f, worker };
}

const tasksAsked = (f: FakeWorker): number[] =>
  f.memory.callsOf('claimWork').map((c) => (c.args[1] as { tasks: number }).tasks);

/** Ends every running container with `code`. */
function exitAll(f: FakeWorker, code = 0): void {
  for (const id of f.docker.running) f.docker.exit(id, code);
}

describe('Worker claim loop', () => {
  it('never runs more than `capacity` tasks, and asks claimWork for the free slots only', async () => {
    const { f, worker } = setup({ capacity: 3 });
    for (let i = 0; i < 6; i++) f.memory.addClaim();
    const asked: { tasks: number; running: number }[] = [];
    const watch = (call: QueueCall) => {
      const { tasks } = call.args[1] as { tasks: number };
      asked.push({ tasks, running: worker.status.running });
      return { tasks: f.memory.pending.splice(0, tasks) };
    };
    f.memory.next('claimWork', ...Array.from({ length: 50 }, () => watch));
    const done = worker.run();
    expect(await f.docker.untilStarted(3)).toHaveLength(3);
    expect(asked[0]).toEqual({ tasks: 3, running: 0 });
    for (let started = 3; started < 6;) {
      const [oldest] = f.docker.running;
      f.docker.exit(oldest ?? '', 0);
      await f.docker.untilStarted(++started);
      expect(f.docker.running.length).toBeLessThanOrEqual(3);
    }
    exitAll(f);
    await f.memory.waitFor('reportCompleted', 6);
    worker.stop();
    const results = await done;
    expect(results.map((r) => r.report)).toEqual(Array(6).fill('completed'));
    for (const a of asked) {
      expect(a.tasks).toBeGreaterThanOrEqual(1);
      expect(a.tasks + a.running).toBeLessThanOrEqual(3);
    }
    expect(
      f.memory.calls
        .filter((c) => c.method === 'claimWork')
        .every((c) => c.credentials.clientId === 'worker-client'),
    ).toBe(true);
  });

  it('asks for at most 32 tasks at once', async () => {
    const { f, worker } = setup({ capacity: 100 });
    const done = worker.run();
    await f.memory.waitFor('claimWork');
    worker.stop();
    await done;
    expect(tasksAsked(f)).toEqual([32]);
  });

  it('sleeps pollingIntervalMs on the clock after an empty claim (no busy loop)', async () => {
    const { f, worker } = setup();
    const done = worker.run();
    await f.memory.waitFor('claimWork');
    await f.clock.advance(POLL - 1);
    expect(f.memory.callsOf('claimWork')).toHaveLength(1);
    await f.clock.advance(1);
    expect(f.memory.callsOf('claimWork')).toHaveLength(2);
    await f.clock.advance(10 * POLL);
    expect(f.memory.callsOf('claimWork')).toHaveLength(12);
    worker.stop();
    expect(await done).toEqual([]);
  });

  it('waits 5 s after a claimWork error, then claims again', async () => {
    const { f, worker } = setup();
    f.memory.next('claimWork', httpError(500));
    f.memory.addClaim();
    const done = worker.run({ once: true });
    await f.memory.waitFor('claimWork');
    await f.clock.advance(4_999);
    expect(f.memory.callsOf('claimWork')).toHaveLength(1);
    await f.clock.advance(1);
    await f.docker.untilStarted(1);
    exitAll(f);
    expect((await done).map((r) => r.report)).toEqual(['completed']);
  });

  it('claims nothing while the engine has less free disk than the threshold, and says so once', async () => {
    let free = 1_000;
    const { f, worker } = setup({ capacityManagement: { diskspaceThreshold: 10_000 } }, async () => free);
    f.memory.addClaim();
    const done = worker.run({ once: true });
    await f.clock.advance(10 * POLL);
    expect(f.memory.callsOf('claimWork')).toHaveLength(0);
    const low = f.logs.filter((l) => l.msg.startsWith('not claiming'));
    expect(low).toHaveLength(1);
    expect(low[0]).toMatchObject({ free: 1_000, threshold: 10_000 });
    free = 50_000;
    await f.clock.advance(POLL);
    await f.docker.untilStarted(1);
    expect(f.logs.filter((l) => l.msg.startsWith('free disk space is back'))).toHaveLength(1);
    exitAll(f);
    expect((await done).map((r) => r.report)).toEqual(['completed']);
  });

  it('claims nothing while the engine does not answer (restarting), and says so once', async () => {
    const { f, worker } = setup();
    let up = false;
    f.docker.ping = async () => {
      if (!up) throw new Error('connect ENOENT /var/run/docker.sock');
    };
    f.memory.addClaim();
    const done = worker.run({ once: true });
    await f.clock.advance(10 * POLL);
    expect(f.memory.callsOf('claimWork')).toHaveLength(0);
    expect(f.logs.filter((l) => l.msg.startsWith('not claiming: the Docker engine'))).toHaveLength(1);
    up = true;
    await f.clock.advance(POLL);
    await f.docker.untilStarted(1);
    expect(f.logs.filter((l) => l.msg.startsWith('the Docker engine answers again'))).toHaveLength(1);
    exitAll(f);
    expect((await done).map((r) => r.report)).toEqual(['completed']);
  });

  it('removes what a run could not remove while the engine was away, before the next claim', async () => {
    const { f, worker } = setup();
    let up = true;
    const ping = f.docker.ping.bind(f.docker);
    const remove = f.docker.remove.bind(f.docker);
    f.docker.ping = async () =>
      up ? ping() : Promise.reject(new Error('connect ENOENT /var/run/docker.sock'));
    f.docker.remove = async (r) =>
      up ? remove(r) : Promise.reject(new Error('connect ENOENT /var/run/docker.sock'));
    const first = f.memory.addClaim();
    const done = worker.run();
    const [id = ''] = await f.docker.untilStarted(1);
    up = false; // the engine stops: it kills the task, and the run's clean-up cannot reach it
    f.docker.exit(id, 137);
    await f.memory.waitFor('reportException');
    expect(f.docker.resources.has(id)).toBe(true);
    await f.clock.advance(POLL);
    up = true;
    const second = f.memory.addClaim();
    await f.clock.advance(POLL);
    const [, next = ''] = await f.docker.untilStarted(2);
    expect(f.docker.resources.has(id)).toBe(false);
    expect(f.docker.resources.get(next)?.labels['org.docker-worker.task-id']).toBe(second.status.taskId);
    expect(f.logs.filter((l) => l.msg === 'removed resources an earlier run could not remove')).toHaveLength(
      1,
    );
    expect(first.status.taskId).not.toBe(second.status.taskId);
    exitAll(f);
    await f.memory.waitFor('reportCompleted');
    worker.stop();
    expect((await done).map((r) => r.report)).toEqual(['exception/internal-error', 'completed']);
  });

  it('frees a slot at the report: the next task starts while the last one is removed; the image GC and run() wait for removals', async () => {
    const f = fakeWorker({
      config: { pollingIntervalMs: POLL, capacityManagement: { diskspaceThreshold: 0 } },
    });
    f.docker.script = { output: 'working\n' };
    const remove = f.docker.remove.bind(f.docker);
    let release = (): void => undefined;
    const gate = new Promise<void>((r) => (release = r));
    f.docker.remove = async (r) => {
      await gate;
      await remove(r);
    };
    const gcWhenRunning: number[] = [];
    const worker = new Worker({
      ...f.deps,
      betweenTasks: async () => void gcWhenRunning.push(worker.status.running),
    });
    f.memory.addClaim();
    f.memory.addClaim();
    let returned = false;
    const done = worker.run().then((r) => ((returned = true), r));
    const [first = ''] = await f.docker.untilStarted(1);
    f.docker.exit(first, 0);
    await f.memory.waitFor('reportCompleted');
    const [, second = ''] = await f.docker.untilStarted(2);
    expect(f.docker.resources.has(first)).toBe(true); // reported, not removed yet
    expect(gcWhenRunning).toEqual([0]); // once before the first claim, not while a removal was pending
    f.docker.exit(second, 0);
    await f.memory.waitFor('reportCompleted', 2);
    worker.stop();
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    expect(returned).toBe(false); // run() waits for the held removals
    release();
    expect((await done).map((r) => r.report)).toEqual(['completed', 'completed']);
    expect(f.docker.resources.has(first) || f.docker.resources.has(second)).toBe(false);
    expect(f.logs.filter((l) => l.msg === 'run removed')).toHaveLength(2);
  });

  it('stop() stops claiming at once; running tasks go on to their end', async () => {
    const { f, worker } = setup({ capacity: 2 });
    f.memory.addClaim();
    const done = worker.run();
    await f.docker.untilStarted(1);
    await f.memory.waitFor('claimWork', 2); // the free slot found nothing
    worker.stop();
    f.memory.addClaim();
    await f.clock.advance(10 * POLL);
    expect(f.memory.callsOf('claimWork')).toHaveLength(2);
    exitAll(f);
    expect((await done).map((r) => r.report)).toEqual(['completed']);
    expect(f.memory.pending).toHaveLength(1);
  });

  it('gives back the claims a long poll brings after stop(): exception/worker-shutdown, nothing run', async () => {
    const { f, worker } = setup();
    const claim = f.memory.addClaim();
    f.memory.pending.length = 0;
    let answer = (_: { tasks: Claim[] }): void => undefined;
    f.memory.next('claimWork', () => new Promise((resolve) => (answer = resolve)));
    const done = worker.run();
    await f.memory.waitFor('claimWork');
    worker.stop();
    answer({ tasks: [claim] });
    expect(await done).toEqual([]);
    expect(f.memory.reports).toEqual([
      {
        taskId: claim.status.taskId,
        runId: '0',
        report: 'exception/worker-shutdown',
        credentials: claim.credentials,
      },
    ]);
    expect(f.docker.containers.size).toBe(0);
  });

  it('run({ once: true }) claims one task, runs it and returns its result', async () => {
    const { f, worker } = setup({ capacity: 4 });
    f.memory.addClaim();
    f.memory.addClaim();
    f.docker.script = { output: '', exitCode: 0 };
    const results = await worker.run({ once: true });
    expect(results.map((r) => r.report)).toEqual(['completed']);
    expect(tasksAsked(f)).toEqual([1]);
    expect(f.memory.pending).toHaveLength(1);
  });

  it('with shutdown.afterIdleSeconds, exits only after that long without a task', async () => {
    const { f, worker } = setup({ shutdown: { graceSeconds: 0, afterIdleSeconds: 60 } });
    f.memory.addClaim();
    let returned = false;
    const done = worker.run().then((r) => ((returned = true), r));
    await f.docker.untilStarted(1);
    await f.clock.advance(10 * 60_000); // a long task (reclaimed on the way)
    exitAll(f);
    await f.memory.waitFor('reportCompleted');
    await f.clock.advance(55_000);
    expect(returned).toBe(false);
    await f.clock.advance(10_000);
    expect((await done).map((r) => r.report)).toEqual(['completed']);
    expect(f.logs.some((l) => l.msg === 'idle: shutting down')).toBe(true);
  });
});

describe('Worker shutdown', () => {
  it('shutdown(0) aborts running tasks: killed and reported exception/worker-shutdown', async () => {
    const { f, worker } = setup({ capacity: 2 });
    f.memory.addClaim();
    f.memory.addClaim();
    const done = worker.run();
    const ids = await f.docker.untilStarted(2);
    await worker.shutdown(0);
    const results = await done;
    expect(results.map((r) => r.report)).toEqual(['exception/worker-shutdown', 'exception/worker-shutdown']);
    expect(f.memory.reports.map((r) => r.report)).toEqual([
      'exception/worker-shutdown',
      'exception/worker-shutdown',
    ]);
    expect([...f.docker.kills].sort()).toEqual([...ids].sort());
    expect(f.memory.callsOf('claimWork')).toHaveLength(1);
  });

  it('shutdown(grace) lets tasks finish within the grace, then aborts the rest', async () => {
    const { f, worker } = setup({ capacity: 2 });
    f.memory.addClaim();
    f.memory.addClaim();
    const done = worker.run();
    const [quick = '', slow = ''] = await f.docker.untilStarted(2);
    const stopped = worker.shutdown(30);
    f.docker.exit(quick, 0);
    await f.memory.waitFor('reportCompleted');
    await f.clock.advance(30_000);
    await stopped;
    const results = await done;
    expect(results.map((r) => r.report).sort()).toEqual(['completed', 'exception/worker-shutdown']);
    expect(f.docker.kills).toEqual([slow]);
  });

  it('a shutdown whose tasks all finish within the grace leaves no timer behind', async () => {
    const { f, worker } = setup();
    f.memory.addClaim();
    const done = worker.run();
    await f.docker.untilStarted(1);
    const stopped = worker.shutdown(600);
    exitAll(f);
    await stopped;
    expect((await done).map((r) => r.report)).toEqual(['completed']);
    // A pending grace sleep would keep the real process alive for up to 600 s after its last task.
    expect(f.clock.pending).toBe(0);
  });
});
