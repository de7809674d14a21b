/**
 * R3: the Docker engine stopped (SIGTERM, as `systemctl stop|restart docker`) and started again
 * mid-task, on a second dockerd this test starts itself (own data root, exec root, pidfile, socket
 * and network namespace: the shared engine and the host's networking are never touched); the
 * worker's DOCKER_HOST points at it. The running task resolves exception/internal-error (the
 * engine killed it on its way down: exit 137 is not the task's; runner README "Docker engine
 * restarts"); the worker keeps running and claims and completes the next task once it is back.
 * Measured: the resolution and its delay, and the time from the engine's return to the next
 * task's completion.
 */
import { execFileSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { newSession } from '../docker.js';
import { QueueSession } from '../queue-harness.js';
import { runLog } from './queue-util.js';
import { record, since, until } from './recorder.js';
import { SecondEngine, withDockerHost } from './second-engine.js';

let engine: SecondEngine | undefined;
let q: QueueSession | undefined;
afterAll(async () => {
  await q?.close();
  await engine?.close();
});

describe('R3: engine restart mid-task', () => {
  it('the running task resolves internal-error; the worker stays up and runs the next task', async () => {
    engine = await SecondEngine.start({ sizeMiB: 1024, images: ['debian:bookworm-slim'] });
    const e = engine;
    q = await QueueSession.start(`e2e-fault-r3-${newSession()}`);
    const s = q;
    const first = await s.createTask({ command: ['/bin/sh', '-c', 'echo before; sleep 300'] });
    const worker = await withDockerHost(e.host, () =>
      s.startWorker({ capacity: 1, taskContainer: { blockHostAccess: false } }),
    );
    await until(async () =>
      (await e.docker.listContainers()).some((c) => c.Labels['org.docker-worker.task-id'] === first),
    );
    const down = performance.now();
    await e.down('SIGTERM');
    // Resolved, not lost, and not taken for the task's failure: the engine's shutdown killed it.
    const firstState = await s.resolved(first);
    const resolvedMs = since(down);
    expect(firstState).toBe('exception/internal-error');
    expect(await runLog(s, first)).toContain(
      'The Docker engine stopped answering as the task container ended',
    );
    expect(worker.child.exitCode).toBeNull();

    // The worker notices the engine is gone and stops claiming (a long poll already out may still
    // bring a task, which then resolves internal-error: the test waits for the notice).
    await until(() => worker.stderr().includes('not claiming: the Docker engine does not answer'));
    const second = await s.createTask({ command: ['/bin/sh', '-c', 'echo after'] });
    const back = performance.now();
    await e.up();
    const secondState = await s.resolved(second);
    expect(secondState).toBe('completed');
    const recoveredMs = since(back);
    expect(worker.child.exitCode).toBeNull();
    worker.child.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
    const left = (await e.docker.listContainers({ all: true })).filter(
      (c) => c.Labels['org.docker-worker.worker-id'] === s.workerId,
    );
    expect(left).toEqual([]);
    // The host's networking is untouched (the test's engine lives in its own network namespace).
    expect(execFileSync('ip', ['-o', 'link', 'show', 'docker0'], { encoding: 'utf8' })).toContain('docker0');
    record({
      id: 'R3',
      fault: "the engine (the test's own dockerd) stopped mid-task and started again",
      tried: 1,
      held: 1,
      measured: `running task → ${firstState} ${(resolvedMs / 1000).toFixed(1)} s after the stop; worker up; next task completed ${(recoveredMs / 1000).toFixed(1)} s after the engine was started again`,
    });
  });
});
