/**
 * R5: cancelTask (the worker's next reclaim answers 409) at each stage of a run: pulling the
 * image, starting a sidecar, running, uploading artifacts. The run's containers are gone soon
 * after (measured, from the cancel), the worker reports nothing for the run (no resolution, no
 * artifact), nothing is left in the engine, and the worker goes on.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildImage, docker, labels, newSession } from '../docker.js';
import { QueueSession, type WorkerProcess } from '../queue-harness.js';
import { record, since, until } from './recorder.js';
import { startStallRegistry, type StallRegistry } from './stall-registry.js';

const session = newSession();
const PULL_HOLD_MS = 4_000;
const STALL_SIDECAR = 'docker-worker-test/stall-sidecar:latest';
let q: QueueSession;
let worker: WorkerProcess;
let registry: StallRegistry;
const figures: string[] = [];
const gone: number[] = [];
let held = 0;
/** Stages after whose cancellation the task log was still uploaded (see the report: task-run.ts). */
const logAfterCancel: string[] = [];

beforeAll(async () => {
  // A sidecar that runs and never answers its readiness probe.
  buildImage({
    tag: STALL_SIDECAR,
    labels: labels(session),
    // It ends on SIGTERM, as the real sidecars do.
    stdin:
      'FROM debian:bookworm-slim\nENTRYPOINT ["/bin/sh", "-c", "trap \'exit 0\' TERM; while :; do sleep 0.2; done", "stall"]\n',
  });
  // The engine's pull of an image there hangs this long (it tries twice) before it fails.
  registry = await startStallRegistry(PULL_HOLD_MS);
  q = await QueueSession.start(`e2e-fault-r5-${session}`, { claimTimeoutSeconds: 3 });
  worker = await q.startWorker({
    capacity: 4,
    images: { taskclusterProxy: STALL_SIDECAR },
    sidecarTimeoutMs: 120_000,
  });
});
afterAll(async () => {
  await registry?.close();
  await q?.close();
  record({
    id: 'R5',
    fault: 'cancelTask (reclaim 409) while pulling, starting a sidecar, running, uploading',
    tried: 4,
    held,
    measured: `containers gone after cancel: ${figures.join('; ')} (max ${Math.max(...gone, 0)} ms); no resolution reported, 0 left; task log still uploaded after the cancel: ${logAfterCancel.join(', ') || 'never'}`,
  });
});

const taskContainers = async (taskId: string): Promise<number> =>
  (
    await docker.listContainers({
      all: true,
      filters: JSON.stringify({ label: [`org.docker-worker.task-id=${taskId}`] }),
    })
  ).length;

/** Whether the worker logged the end of the run of `taskId`. */
const ended = (taskId: string): boolean =>
  worker
    .stderr()
    .split('\n')
    .some((l) => l.includes(`"taskId":"${taskId}"`) && l.includes('"task resolved"'));

/** Cancels `taskId` once `reached()` resolves; checks what must hold and measures. */
async function cancelAt(stage: string, taskId: string, reached: () => Promise<unknown>): Promise<void> {
  await reached();
  const mark = q.tc.requests.length;
  const start = performance.now();
  await q.admin.cancelTask(taskId);
  await until(async () => (await taskContainers(taskId)) === 0);
  const goneMs = since(start);
  // The worker saw the 409, and the run ended (its operator log says so).
  const w = q.tc.requests;
  await until(() =>
    w.slice(mark).some((r) => r.path.includes(`/task/${taskId}/runs/0/reclaim`) && r.status === 409),
  );
  await until(() => ended(taskId));
  const endedMs = since(start);
  const after = w.slice(mark).filter((r) => r.path.includes(`/task/${taskId}/`));
  // No resolution, no task artifact. (The task log is another matter: see `logAfterCancel`.)
  const calls = after.map((r) => `${r.method} ${r.path.replace(/.*\/runs\/0/, '')} ${r.status}`);
  expect(calls.filter((c) => /^POST \/(completed|failed|exception) /.test(c))).toEqual([]);
  const uploads = calls.filter((c) => /\/artifacts\/.* 2\d\d$/.test(c));
  expect(uploads.filter((c) => !c.includes('public%2Flogs%2F'))).toEqual([]);
  if (uploads.length > 0) logAfterCancel.push(stage);
  expect(await q.resolved(taskId)).toBe('exception/canceled');
  expect(await q.leftovers(taskId)).toEqual({ containers: 0, networks: 0 });
  expect(q.tc.queue.statusOf(taskId)?.runs).toHaveLength(1);
  expect(worker.child.exitCode).toBeNull();
  figures.push(`${stage} ${Math.round(goneMs)} ms (run ended ${(endedMs / 1000).toFixed(1)} s)`);
  gone.push(Math.round(goneMs));
  if (uploads.length === 0) held++;
}

describe('R5: cancellation at each stage', () => {
  it('while pulling the image', async () => {
    const taskId = await q.createTask({ image: `${registry.host}/stall:latest`, command: ['true'] });
    await cancelAt('pulling', taskId, () => registry.asked);
  });

  it('while a sidecar is starting', async () => {
    const taskId = await q.createTask({ command: ['true'], features: { taskclusterProxy: true } });
    // The sidecar's container runs (it never answers its probe), the task's is not made yet.
    await cancelAt('sidecar starting', taskId, () => until(async () => (await taskContainers(taskId)) > 0));
  });

  it('while running', async () => {
    const taskId = await q.createTask({ command: ['/bin/sh', '-c', 'echo running; sleep 300'] });
    await cancelAt('running', taskId, () => q.taskContainer(taskId));
  });

  it('while uploading artifacts', async () => {
    const taskId = await q.createTask({
      command: ['/bin/sh', '-c', 'mkdir -p /out; echo a > /out/a.txt'],
      artifacts: { 'public/a.txt': { type: 'file', path: '/out/a.txt' } },
    });
    q.tc.faults.fail({ status: 500, match: new RegExp(`/task/${taskId}/runs/0/artifacts/public%2Fa.txt`) });
    await cancelAt('uploading', taskId, () =>
      until(() =>
        q.tc.requests.some((r) => r.path.includes(`/task/${taskId}/runs/0/artifacts/`) && r.status === 500),
      ),
    );
    q.tc.faults.clear();
  });
});
