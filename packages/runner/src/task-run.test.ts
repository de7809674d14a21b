import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { canceled, failure } from './errors.js';
import type { Feature } from './features/feature.js';
import { builtinFeatures } from './features/index.js';
import { runTask } from './task-run.js';
import { FakeDocker } from './testing/fake-docker.js';
import { fakeRun } from './testing/fake-run.js';

function recorder(name: string, calls: string[], fail?: 'start'): Feature {
  return {
    name,
    isEnabled: () => true,
    isRequested: () => true,
    async start() {
      calls.push(`start ${name}`);
      if (fail) throw failure(`${name} broke`);
      return {
        contribution: name === 'a' ? { image: 'sha256:x' } : {},
        stop: async () => void calls.push(`stop ${name}`),
        afterCleanup: async () => void calls.push(`afterCleanup ${name}`),
      };
    },
  };
}

describe('runTask', () => {
  it('starts in order, stops in reverse, removes everything by label', async () => {
    const docker = new FakeDocker();
    const { run } = fakeRun({ docker });
    const calls: string[] = [];
    const outcome = await runTask(run, [recorder('a', calls), recorder('b', calls)]);
    expect(calls).toEqual(['start a', 'start b', 'stop b', 'stop a', 'afterCleanup b', 'afterCleanup a']);
    expect(outcome).toMatchObject({ state: 'completed', exitCode: 0 });
    expect(docker.resources.size).toBe(0);
  });

  it('stops the features started before one whose start threw, skips later ones, and reports its error', async () => {
    const docker = new FakeDocker();
    const { run } = fakeRun({ docker });
    const calls: string[] = [];
    const outcome = await runTask(run, [
      recorder('a', calls),
      recorder('b', calls, 'start'),
      recorder('c', calls),
    ]);
    expect(calls).toEqual(['start a', 'start b', 'stop a', 'afterCleanup a']);
    expect(outcome).toMatchObject({ state: 'failed', reasonResolved: 'failed', exitCode: null });
    expect(docker.resources.size).toBe(0);
  });

  it('a cancellation during the stops (uploads) reaches every later hook: nothing more is uploaded', async () => {
    const { run } = fakeRun();
    const seen: string[] = [];
    const uploader = (name: string, cancelOnStop: boolean): Feature => ({
      name,
      isEnabled: () => true,
      isRequested: () => true,
      async start() {
        return {
          contribution: name === 'a' ? { image: 'sha256:x' } : {},
          stop: async (o) => {
            seen.push(`stop ${name} ${o.reasonResolved}`);
            if (cancelOnStop) run.abort(canceled('reclaim answered 409'));
          },
          afterCleanup: async (o) => void seen.push(`afterCleanup ${name} ${o.reasonResolved} ${o.canceled}`),
        };
      },
    });
    const outcome = await runTask(run, [uploader('a', false), uploader('b', true)]);
    expect(seen).toEqual([
      'stop b completed',
      'stop a canceled',
      'afterCleanup b canceled true',
      'afterCleanup a canceled true',
    ]);
    expect(outcome).toMatchObject({
      state: 'exception',
      reasonResolved: 'canceled',
      canceled: true,
      exitCode: 0,
    });
  });

  it('refuses a feature the task has no scope for, naming the scope', async () => {
    const { run } = fakeRun();
    const calls: string[] = [];
    const restricted: Feature = {
      ...recorder('r', calls),
      requiredScopes: () => [['docker-worker:feature:r']],
    };
    const outcome = await runTask(run, [recorder('a', calls), restricted]);
    expect(outcome).toMatchObject({ state: 'exception', reasonResolved: 'malformed-payload' });
    expect(outcome.error?.message).toContain('docker-worker:feature:r');
    expect(calls).toEqual(['start a', 'stop a', 'afterCleanup a']);
  });

  it('kills the container at maxRunTime (FakeClock) with the built-in features', async () => {
    const docker = new FakeDocker();
    docker.script = { output: 'working\n' }; // never exits on its own
    const { run, clock, dir } = fakeRun({ docker, payload: { maxRunTime: 3 } });
    const started = docker.nextStart();
    const done = runTask(run, builtinFeatures);
    await started;
    await clock.advance(3000);
    const outcome = await done;
    expect(outcome).toMatchObject({ state: 'failed', reasonResolved: 'failed', exitCode: null });
    const log = readFileSync(`${dir}/artifacts/public/logs/live_backing.log`, 'utf8');
    expect(log).toContain('working\n');
    expect(log).toContain('[taskcluster:error] Task timeout after 3 seconds. Force killing container.');
    expect(log).toMatch(/Unsuccessful task run with exit code: -1 completed in/);
    expect(docker.resources.size).toBe(0);
  });

  it('resolves worker-shutdown when aborted', async () => {
    const docker = new FakeDocker();
    docker.script = { output: '' };
    const { run } = fakeRun({ docker });
    const started = docker.nextStart();
    const done = runTask(run, builtinFeatures);
    await started;
    const { workerShutdown } = await import('./errors.js');
    run.abort(workerShutdown('Task has been aborted prematurely. Reason: worker-shutdown'));
    expect(await done).toMatchObject({ state: 'exception', reasonResolved: 'worker-shutdown' });
    expect(docker.resources.size).toBe(0);
  });
});

describe('runTask with deferCleanup (queue mode)', () => {
  /** A feature whose handle has a stop and a finish (and an afterCleanup when asked). */
  const finisher = (calls: string[], afterCleanup = false): Feature => ({
    name: 'f',
    isEnabled: () => true,
    isRequested: () => true,
    async start() {
      return {
        contribution: { image: 'sha256:x' },
        stop: async () => void calls.push('stop'),
        finish: async () => void calls.push('finish'),
        ...(afterCleanup ? { afterCleanup: async () => void calls.push('afterCleanup') } : {}),
      };
    },
  });
  /** The docker's removals held until `release()`; each removal pushes `removed <kind>` once done. */
  function heldRemovals(docker: FakeDocker, calls: string[], fail = false) {
    const remove = docker.remove.bind(docker);
    let release = (): void => undefined;
    const gate = new Promise<void>((r) => (release = r));
    docker.remove = async (r) => {
      await gate;
      if (fail) throw new Error('engine gone');
      await remove(r);
      calls.push(`removed ${r.kind}`);
    };
    return () => release();
  }

  it('reports without waiting for the removal, which the run hands over (run.removeEverything)', async () => {
    const docker = new FakeDocker();
    const { run } = fakeRun({ docker });
    const calls: string[] = [];
    const release = heldRemovals(docker, calls);
    const outcome = await runTask(run, [finisher(calls)], { deferCleanup: true });
    expect(outcome).toMatchObject({ state: 'completed', exitCode: 0 });
    expect(calls).toEqual(['stop', 'finish']);
    expect(docker.containers.size).toBe(1); // still being removed
    release();
    await run.removeEverything();
    expect(calls).toEqual(['stop', 'finish', 'removed container', 'removed network']);
    expect(docker.resources.size).toBe(0);
  });

  it('a removal that fails is not the task’s: the outcome stays, removeEverything() rejects', async () => {
    const docker = new FakeDocker();
    const { run } = fakeRun({ docker });
    const release = heldRemovals(docker, [], true);
    const outcome = await runTask(run, [finisher([])], { deferCleanup: true });
    release();
    expect(outcome).toMatchObject({ state: 'completed', exitCode: 0 });
    await expect(run.removeEverything()).rejects.toThrow(/engine gone/);
  });

  it('waits for the removal when a handle has afterCleanup (a cache purge needs the volumes free)', async () => {
    const docker = new FakeDocker();
    const { run } = fakeRun({ docker });
    const calls: string[] = [];
    const release = heldRemovals(docker, calls);
    const done = runTask(run, [finisher(calls, true)], { deferCleanup: true });
    release();
    expect(await done).toMatchObject({ state: 'completed' });
    expect(calls).toEqual(['stop', 'removed container', 'removed network', 'afterCleanup', 'finish']);
  });
});

describe('runTask data flow', () => {
  it('gives the stops the container id and exit code in the outcome', async () => {
    const docker = new FakeDocker();
    docker.script = { output: '', exitCode: 3 };
    const { run } = fakeRun({ docker });
    const seen: unknown[] = [];
    const probe: Feature = {
      name: 'probe',
      isEnabled: () => true,
      isRequested: () => true,
      async start() {
        return {
          contribution: { image: 'sha256:x' },
          stop: async (o) => void seen.push({ containerId: o.containerId, exitCode: o.exitCode }),
        };
      },
    };
    const outcome = await runTask(run, [probe]);
    expect(seen).toEqual([{ containerId: 'c1', exitCode: 3 }]);
    expect(outcome).toMatchObject({ state: 'failed', containerId: 'c1', exitCode: 3 });
  });

  it('an exit seen while the engine no longer answers (engine shutting down) is internal-error, not failed', async () => {
    const docker = new FakeDocker();
    docker.script = { output: 'before\n', exitCode: 137 };
    const { run } = fakeRun({ docker });
    docker.ping = async () => {
      throw new Error('connect ENOENT /var/run/docker.sock');
    };
    const outcome = await runTask(run, builtinFeatures);
    expect(outcome).toMatchObject({ state: 'exception', reasonResolved: 'internal-error', exitCode: null });
    expect(outcome.error?.message).toMatch(
      /Docker engine stopped answering as the task container ended \(exit code 137\)/,
    );
  });

  it('writes the footer after the clean-up, so a clean-up error comes before it and fails the run', async () => {
    const docker = new FakeDocker();
    const { run, dir } = fakeRun({ docker });
    docker.remove = async () => {
      throw new Error('engine gone');
    };
    const outcome = await runTask(run, builtinFeatures);
    expect(outcome).toMatchObject({ state: 'exception', reasonResolved: 'internal-error' });
    const log = readFileSync(`${dir}/artifacts/public/logs/live_backing.log`, 'utf8');
    const lines = log.trimEnd().split('\n');
    expect(log).toContain('[taskcluster:error] worker error: could not remove 2 resource(s): engine gone');
    expect(lines.at(-2)).toMatch(/Resolution: exception \(internal-error\)$/);
    expect(lines.at(-1)).toMatch(/Unsuccessful task run with exit code: 0 completed in/);
    expect(log).not.toContain('Successful task run');
  });

  it('resolves a malformed payload without touching the engine', async () => {
    const docker = new FakeDocker();
    const calls: string[] = [];
    for (const method of ['createNetwork', 'listByLabel', 'inspectImage'] as const) {
      const original = docker[method].bind(docker) as (...a: unknown[]) => Promise<unknown>;
      (docker as unknown as Record<string, unknown>)[method] = (...a: unknown[]) => {
        calls.push(method);
        return original(...a);
      };
    }
    const { run } = fakeRun({ docker, payload: { maxRunTime: 'soon' } as never });
    const outcome = await runTask(run, builtinFeatures);
    expect(outcome).toMatchObject({ state: 'exception', reasonResolved: 'malformed-payload' });
    expect(calls).toEqual([]);
  });
});

describe('runTask abort races', () => {
  it('an abort that lands while the container is being started still kills it once it runs', async () => {
    const docker = new FakeDocker();
    docker.script = { output: '' }; // runs until killed
    const start = docker.startContainer.bind(docker);
    let release = (): void => undefined;
    const gate = new Promise<void>((r) => (release = r));
    let entered = (): void => undefined;
    const inStart = new Promise<void>((r) => (entered = r));
    docker.startContainer = async (id) => {
      entered();
      await gate; // the engine is slow to start it
      await start(id);
    };
    const { run } = fakeRun({ docker });
    const done = runTask(run, builtinFeatures);
    await inStart;
    const { workerShutdown } = await import('./errors.js');
    run.abort(workerShutdown('Task has been aborted prematurely. Reason: worker-shutdown'));
    release();
    expect(await done).toMatchObject({ state: 'exception', reasonResolved: 'worker-shutdown' });
    expect(docker.kills.length).toBeGreaterThanOrEqual(1);
    expect(docker.resources.size).toBe(0);
  });

  it("creates the task container while a feature's ready is pending, and starts it only once ready resolves", async () => {
    const docker = new FakeDocker();
    const { run } = fakeRun({ docker });
    let markReady = (): void => undefined;
    const ready = new Promise<void>((resolve) => (markReady = resolve));
    let createdBeforeReady = 0;
    const sidecarLike: Feature = {
      name: 'side',
      isEnabled: () => true,
      isRequested: () => true,
      async start() {
        return { contribution: { image: 'sha256:x' }, ready };
      },
    };
    const outcome = runTask(run, [sidecarLike]);
    // The container is created (not started) while the feature still gets ready.
    for (let i = 0; i < 100 && docker.containers.size === 0; i++) await new Promise((r) => setImmediate(r));
    createdBeforeReady = docker.containers.size;
    expect(docker.started).toEqual([]);
    markReady();
    expect(createdBeforeReady).toBe(1);
    expect(await outcome).toMatchObject({ state: 'completed', exitCode: 0 });
    expect(docker.started).toHaveLength(1);
    expect(docker.resources.size).toBe(0);
  });

  it("a feature's ready that rejects fails the run: the container never starts, the stops still run", async () => {
    const docker = new FakeDocker();
    const { run } = fakeRun({ docker });
    const calls: string[] = [];
    const notReady: Feature = {
      name: 'side',
      isEnabled: () => true,
      isRequested: () => true,
      async start() {
        const ready = Promise.reject(failure('the side sidecar did not answer'));
        ready.catch(() => undefined);
        return {
          contribution: { image: 'sha256:x' },
          ready,
          stop: async () => void calls.push('stop side'),
        };
      },
    };
    const outcome = await runTask(run, [notReady, recorder('b', calls)]);
    expect(outcome).toMatchObject({ state: 'failed', reasonResolved: 'failed', exitCode: null });
    expect(outcome.error?.message).toBe('the side sidecar did not answer');
    expect(docker.started).toEqual([]);
    expect(calls).toEqual(['start b', 'stop b', 'stop side', 'afterCleanup b']);
    expect(docker.resources.size).toBe(0);
  });
});
