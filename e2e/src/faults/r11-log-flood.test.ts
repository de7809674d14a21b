/**
 * R11: two tasks at once through a real worker (queue mode, the shared engine): one writes as much
 * log as it can (npm test 200 MiB, full 1 GiB), one prints nothing for a long time (npm test 30 s,
 * full 10 min) with a short claim timeout, so that it lives on reclaims alone. Must hold: both
 * complete (a reclaim that came after takenUntil would have let the queue expire the claim), every
 * reclaim is answered 200, the live log server answers while the flood runs, and the worker's RSS
 * stays far below the log's size. Measured: reclaims, the smallest margin to takenUntil seen,
 * the worker's RSS growth, the live log's first answer during the flood.
 */
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { newSession } from '../docker.js';
import { QueueSession } from '../queue-harness.js';
import { runLog } from './queue-util.js';
import { record, scale, since, until } from './recorder.js';

const MiB = 1024 * 1024;
const LOG_MIB = scale(200, 1024);
const SILENT_S = scale(30, 600);
const CLAIM_TIMEOUT_S = scale(6, 60);
let q: QueueSession | undefined;
afterAll(async () => {
  await q?.close();
});

/** VmRSS of a process, in bytes. */
function rss(pid: number): number {
  let status = '';
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return 0; // the worker has exited (the test is failing): nothing to sample
  }
  const line = /VmRSS:\s+(\d+) kB/.exec(status);
  return Number(line?.[1] ?? 0) * 1024;
}

describe('R11: a log flood and a long silence', () => {
  it(
    'both complete on time, reclaims never late, the live log answers, memory bounded',
    { timeout: (SILENT_S + 300) * 1000 },
    async () => {
      q = await QueueSession.start(`e2e-fault-r11-${newSession()}`, { claimTimeoutSeconds: CLAIM_TIMEOUT_S });
      const s = q;
      const worker = await s.startWorker({ capacity: 2 });
      const pid = worker.child.pid ?? 0;
      await until(() => worker.stderr().includes('worker started'));
      const baseline = rss(pid);
      const line = 'x'.repeat(99);
      const silent = await s.createTask({
        command: ['/bin/sh', '-c', `echo quiet; sleep ${SILENT_S}; echo quiet-end`],
        maxRunTime: SILENT_S + 120,
      });
      const flood = await s.createTask({
        command: ['/bin/sh', '-c', `yes ${line} | head -c ${LOG_MIB * MiB}; echo; echo flood-end`],
        maxRunTime: 1800,
      });

      // Sample RSS and each run's margin to takenUntil until both are resolved.
      let peak = baseline;
      let margin = Infinity;
      let done = false;
      const sampler = (async () => {
        while (!done) {
          peak = Math.max(peak, rss(pid));
          for (const id of [silent, flood]) {
            const run = s.tc.queue.statusOf(id)?.runs[0];
            if (run?.state === 'running' && run.takenUntil)
              margin = Math.min(margin, Date.parse(run.takenUntil) - Date.now());
          }
          await new Promise((r) => setTimeout(r, 200));
        }
      })();

      // While the flood runs, the live log server answers (the quiet task's log, from its start).
      await s.taskContainer(flood);
      const asked = performance.now();
      const res = await fetch(await s.liveLogUrl(silent));
      const reader = res.body!.getReader();
      const first = new TextDecoder().decode((await reader.read()).value);
      const answeredMs = since(asked);
      await reader.cancel();
      const floodRunning = s.tc.queue.statusOf(flood)?.runs[0]?.state === 'running';
      expect(res.status).toBe(200);
      expect(first).toContain('[taskcluster');

      const states = [await s.resolved(flood), await s.resolved(silent)];
      done = true;
      await sampler;
      expect(states).toEqual(['completed', 'completed']);
      expect(await runLog(s, silent)).toMatch(/quiet\n[^]*quiet-end\n/);
      const reclaims = s.tc.requests.filter((r) => /\/runs\/0\/reclaim$/.test(r.path));
      const silentReclaims = reclaims.filter((r) => r.path.includes(silent)).length;
      expect(silentReclaims).toBeGreaterThanOrEqual(2);
      expect(reclaims.every((r) => r.status === 200)).toBe(true);
      const growth = peak - baseline;
      expect(growth).toBeLessThan((LOG_MIB * MiB) / 2);
      worker.child.kill('SIGTERM');
      expect(await worker.exited).toBe(0);
      record({
        id: 'R11',
        fault: `a task writing ${LOG_MIB} MiB of log as fast as it can, and one silent for ${SILENT_S} s (claim timeout ${CLAIM_TIMEOUT_S} s), at once`,
        tried: 2,
        held: 2,
        measured: `both completed; ${reclaims.length} reclaims (${silentReclaims} of the silent task), all 200, smallest margin to takenUntil ${(margin / 1000).toFixed(1)} s; worker RSS +${Math.round(growth / MiB)} MiB (peak ${Math.round(peak / MiB)} MiB); live log answered in ${Math.round(answeredMs)} ms ${floodRunning ? 'while the flood ran' : '(the flood had ended)'}`,
      });
    },
  );
});
