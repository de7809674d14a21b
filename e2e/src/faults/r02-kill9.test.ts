/**
 * R2: `kill -9` of the worker mid-task, then a restart. The restart's sweep leaves no orphan
 * container, network or volume of the killed run; the killed run claim-expires; its retry
 * completes. Measured: time from the restart to the sweep's end and to the retry's completion.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { docker, newSession } from '../docker.js';
import { QueueSession } from '../queue-harness.js';
import { runLog } from './queue-util.js';
import { record, since, until } from './recorder.js';

const sh = (script: string): string[] => ['/bin/sh', '-c', script];
let q: QueueSession | undefined;
afterAll(async () => {
  await q?.close();
});

/** Containers, networks and volumes of one run (by its labels). */
async function runResources(workerId: string, taskId: string, runId: number): Promise<number> {
  const filters = JSON.stringify({
    label: [
      `org.docker-worker.worker-id=${workerId}`,
      `org.docker-worker.task-id=${taskId}`,
      `org.docker-worker.run-id=${runId}`,
    ],
  });
  const [c, n, v] = await Promise.all([
    docker.listContainers({ all: true, filters }),
    docker.listNetworks({ filters }),
    docker.listVolumes({ filters }),
  ]);
  return c.length + n.length + (v.Volumes ?? []).length;
}

describe('R2: kill -9 of the worker mid-task', () => {
  it('the restart sweeps every orphan; the killed run claim-expires; the retry completes', async () => {
    q = await QueueSession.start(`e2e-fault-r2-${newSession()}`, { claimTimeoutSeconds: 3 });
    const s = q;
    const taskId = await s.createTask({
      command: sh('if [ "$RUN_ID" = 0 ]; then echo first; sleep 300; fi; echo second run'),
      features: { taskclusterProxy: true },
    });
    const first = await s.startWorker();
    await s.taskContainer(taskId);
    const orphans = await runResources(s.workerId, taskId, 0);
    first.child.kill('SIGKILL');
    await first.exited;
    expect(orphans).toBeGreaterThanOrEqual(3); // task and proxy containers, the run's network (and the secrets volume)
    expect(await runResources(s.workerId, taskId, 0)).toBe(orphans);

    const restart = performance.now();
    const second = await s.startWorker({}, ['--once']);
    await until(() => /removed resources left by an earlier worker process/.test(second.stderr()));
    const sweptMs = since(restart);
    expect(await runResources(s.workerId, taskId, 0)).toBe(0);
    expect(await s.resolved(taskId, 0)).toBe('exception/claim-expired');
    expect(await s.resolved(taskId, 1)).toBe('completed');
    const recoveredMs = since(restart);
    expect(await second.exited).toBe(0);
    expect(await runLog(s, taskId, 1)).toContain('second run\n');
    expect(s.tc.queue.statusOf(taskId)?.runs).toHaveLength(2);
    expect(await s.leftovers(taskId)).toEqual({ containers: 0, networks: 0 });
    record({
      id: 'R2',
      fault: 'kill -9 of the worker mid-task (task + proxy sidecar), restart',
      tried: 1,
      held: 1,
      measured: `${orphans} orphans → 0, swept ${Math.round(sweptMs)} ms after restart; run 0 claim-expired, retry completed ${(recoveredMs / 1000).toFixed(1)} s after restart (claim timeout 3 s)`,
    });
  });
});
