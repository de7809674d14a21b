import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { failure } from './errors.js';
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
      return name === 'a' ? { image: 'sha256:x' } : undefined;
    },
    async stop() {
      calls.push(`stop ${name}`);
    },
  };
}

describe('runTask', () => {
  it('starts in order, stops in reverse, removes everything by label', async () => {
    const docker = new FakeDocker();
    const { run } = fakeRun({ docker });
    const calls: string[] = [];
    const outcome = await runTask(run, [recorder('a', calls), recorder('b', calls)]);
    expect(calls).toEqual(['start a', 'start b', 'stop b', 'stop a']);
    expect(outcome).toMatchObject({ state: 'completed', exitCode: 0 });
    expect(docker.resources.size).toBe(0);
  });

  it('stops a feature whose start threw, skips later ones, and reports its error', async () => {
    const docker = new FakeDocker();
    const { run } = fakeRun({ docker });
    const calls: string[] = [];
    const outcome = await runTask(run, [
      recorder('a', calls),
      recorder('b', calls, 'start'),
      recorder('c', calls),
    ]);
    expect(calls).toEqual(['start a', 'start b', 'stop b', 'stop a']);
    expect(outcome).toMatchObject({ state: 'failed', reasonResolved: 'failed', exitCode: null });
    expect(docker.resources.size).toBe(0);
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
    expect(calls).toEqual(['start a', 'stop a']);
  });

  it('kills the container at maxRunTime (FakeClock) with the built-in features', async () => {
    const docker = new FakeDocker();
    docker.script = { output: 'working\n' }; // never exits on its own
    const { run, clock, dir } = fakeRun({ docker, payload: { maxRunTime: 3 } });
    const done = runTask(run, builtinFeatures);
    while (!run.containerId) await new Promise((r) => setImmediate(r));
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
    const done = runTask(run, builtinFeatures);
    while (!run.containerId) await new Promise((r) => setImmediate(r));
    const { workerShutdown } = await import('./errors.js');
    run.abort(workerShutdown('Task has been aborted prematurely. Reason: worker-shutdown'));
    expect(await done).toMatchObject({ state: 'exception', reasonResolved: 'worker-shutdown' });
    expect(docker.resources.size).toBe(0);
  });
});
