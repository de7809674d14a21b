/**
 * R4: the queue (and its object storage) answers 500 or resets connections for a window (10 s in
 * npm test, 60 s under `npm run faults`) while tasks run, upload and resolve. Nothing is lost
 * (every task completed once, every artifact there), retries back off (calls per second during
 * the window, as fake-taskcluster saw them), claims resume after it.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { newSession } from '../docker.js';
import { QueueSession } from '../queue-harness.js';
import { readArtifact } from './queue-util.js';
import { record, scale, since, until } from './recorder.js';

const WINDOW_MS = scale(10_000, 60_000);
const TASKS = 4;
let q: QueueSession | undefined;
afterAll(async () => {
  await q?.close();
});

describe('R4: queue outage', () => {
  it(`500s and resets for ${WINDOW_MS / 1000} s: nothing lost, retries back off, claims resume`, async () => {
    q = await QueueSession.start(`e2e-fault-r4-${newSession()}`, { claimTimeoutSeconds: scale(60, 180) });
    const s = q;
    const sleep = Math.round(WINDOW_MS / 3000);
    const ids: string[] = [];
    for (let i = 0; i < TASKS; i++)
      ids.push(
        await s.createTask({
          command: ['/bin/sh', '-c', `mkdir -p /out; echo kept-${i} > /out/k.txt; sleep ${sleep}`],
          artifacts: { 'public/k.txt': { type: 'file', path: '/out/k.txt' } },
        }),
      );
    const worker = await s.startWorker({ capacity: 2 });
    await s.taskContainer(ids[0]!);
    // Resets for claimWork and reclaims, 500 for everything else (reports, artifacts, uploads).
    const injectedBefore = s.tc.faults.injected;
    s.tc.faults.fail({ drop: true, forMs: WINDOW_MS, match: /claim-work|reclaim/ });
    s.tc.faults.fail({ status: 500, forMs: WINDOW_MS });
    const start = performance.now();
    await until(() => since(start) >= WINDOW_MS && s.tc.faults.injected > injectedBefore, 250);
    const calls = s.tc.faults.injected - injectedBefore;
    const perSecond = Math.round((calls / (WINDOW_MS / 1000)) * 10) / 10;
    const seen = s.tc.requests.length;
    // Claims resume: a claimWork answered 200 after the window.
    await until(() => s.tc.requests.slice(seen).some((r) => /claim-work/.test(r.path) && r.status === 200));
    const resumedMs = since(start) - WINDOW_MS;
    const states = await Promise.all(ids.map((id) => s.resolved(id)));
    expect(states).toEqual(ids.map(() => 'completed'));
    for (const [i, id] of ids.entries()) {
      expect(s.tc.queue.statusOf(id)?.runs).toHaveLength(1);
      expect(await readArtifact(s, id, 'public/k.txt')).toBe(`kept-${i}\n`);
      expect(await readArtifact(s, id, 'public/logs/live.log')).toMatch(/Successful task run/);
    }
    expect(perSecond).toBeLessThanOrEqual(5);
    expect(worker.child.exitCode).toBeNull();
    worker.child.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
    expect(await s.leftovers()).toEqual({ containers: 0, networks: 0 });
    record({
      id: 'R4',
      fault: `queue + storage 500/resets for ${WINDOW_MS / 1000} s, ${TASKS} tasks (capacity 2)`,
      tried: TASKS,
      held: states.filter((x) => x === 'completed').length,
      measured: `${calls} calls failed in the window = ${perSecond} calls/s; claims resumed ${(Math.max(0, resumedMs) / 1000).toFixed(1)} s after it; 0 lost, each resolved once`,
    });
  });
});
