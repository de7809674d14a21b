/**
 * Queue mode when time passes and things break: reclaims with new credentials (seen through the
 * proxy sidecar), a queue answering 500 around a resolution, SIGTERM mid-task, and a worker
 * killed with SIGKILL then restarted. Real engine, built images, fake-taskcluster.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { docker, newSession } from './docker.js';
import { QueueSession } from './queue-harness.js';
import { printed, sweepStaleSessions } from './runner-harness.js';

const sh = (script: string): string[] => ['/bin/sh', '-c', script];
const session = newSession();
const sessions: QueueSession[] = [];

async function queue(suffix: string, claimTimeoutSeconds: number): Promise<QueueSession> {
  const q = await QueueSession.start(`e2e-qf-${session}-${suffix}`, { claimTimeoutSeconds });
  sessions.push(q);
  return q;
}

beforeAll(() => sweepStaleSessions('e2e-qf-', `e2e-qf-${session}`));
afterAll(async () => {
  for (const q of sessions) await q.close();
});

describe('queue mode under time and faults', () => {
  it('reclaims a task that outlives two claim timeouts; the proxy signs with the new credentials', async () => {
    const q = await queue('r', 4);
    const whoami = `fetch('http://taskcluster/api/fake/v1/whoami').then(r => r.json()).then(j => console.log('WHO ' + JSON.stringify(j.clientId)))`;
    const taskId = await q.createTask({
      image: 'node:20-bookworm-slim',
      command: [
        'node',
        '-e',
        `(async () => { await ${whoami}; await new Promise(r => setTimeout(r, 9000)); await ${whoami}; })()`,
      ],
      features: { taskclusterProxy: true },
    });
    const worker = await q.startWorker({}, ['--once']);
    expect(await worker.exited).toBe(0);
    expect(await q.resolved(taskId)).toBe('completed');
    const log = (await q.artifact(taskId, 'public/logs/live.log')).body;
    const [first, second] = printed(log, 'WHO') as string[];
    expect(first).toMatch(new RegExp(`^task-client/${taskId}/0/on/e2e/`));
    expect(second).toMatch(new RegExp(`^task-client/${taskId}/0/on/e2e/`));
    expect(second).not.toBe(first);
    expect(q.callsFor(taskId).filter((c) => /reclaim 200/.test(c)).length).toBeGreaterThanOrEqual(2);
  });

  it('loses nothing when the queue answers 500 for 10 s around the resolution', async () => {
    const q = await queue('f', 60);
    const taskId = await q.createTask({
      command: sh('mkdir -p /out; echo kept > /out/k.txt; sleep 1'),
      artifacts: { 'public/k.txt': { type: 'file', path: '/out/k.txt' } },
    });
    const worker = await q.startWorker({}, ['--once']);
    await q.taskContainer(taskId);
    q.tc.faults.fail({ status: 500, forMs: 10_000, match: /\/(completed|artifacts\/)/ });
    expect(await worker.exited).toBe(0);
    expect(await q.resolved(taskId)).toBe('completed');
    expect(q.tc.faults.injected).toBeGreaterThan(0);
    expect(await q.artifact(taskId, 'public/k.txt')).toMatchObject({ status: 200, body: 'kept\n' });
    expect((await q.artifact(taskId, 'public/logs/live.log')).body).toMatch(/Successful task run/);
    expect(worker.stderr()).toMatch(/failed; retrying/);
  });

  it('SIGTERM mid-task: the task resolves exception/worker-shutdown with its log, the worker exits 0', async () => {
    const q = await queue('s', 60);
    const taskId = await q.createTask({ command: sh('echo working; sleep 300') });
    const worker = await q.startWorker({ shutdown: { graceSeconds: 0 } });
    await q.taskContainer(taskId);
    worker.child.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
    expect(await q.resolved(taskId)).toBe('exception/worker-shutdown');
    const log = (await q.artifact(taskId, 'public/logs/live.log')).body;
    expect(log).toContain('working\n');
    expect(log).toContain('Task has been aborted prematurely. Reason: worker-shutdown');
    expect(q.tc.queue.statusOf(taskId)?.runs[1]).toMatchObject({ state: 'pending', reasonCreated: 'retry' });
    expect(await q.leftovers(taskId)).toEqual({ containers: 0, networks: 0 });
  });

  it('kill -9 of the worker, then a restart: no orphans, and the retried run completes', async () => {
    const q = await queue('k', 3);
    const taskId = await q.createTask({
      command: sh('if [ "$RUN_ID" = 0 ]; then sleep 300; fi; echo second run'),
    });
    const first = await q.startWorker();
    const orphan = await q.taskContainer(taskId);
    first.child.kill('SIGKILL');
    await first.exited;
    expect(await q.leftovers(taskId)).toEqual({ containers: 1, networks: 0 }); // a plain task runs on the shared network
    const second = await q.startWorker({}, ['--once']);
    expect(await q.resolved(taskId, 0)).toBe('exception/claim-expired');
    expect(await second.exited).toBe(0);
    expect(await q.resolved(taskId, 1)).toBe('completed');
    expect((await q.artifact(taskId, 'public/logs/live.log', 1)).body).toContain('second run\n');
    await expect(docker.getContainer(orphan).inspect()).rejects.toMatchObject({ statusCode: 404 });
    expect(await q.leftovers(taskId)).toEqual({ containers: 0, networks: 0 });
  });
});
