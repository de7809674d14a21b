/**
 * Scale-out as Taskcluster does it: workers registered with (fake) worker-manager and started by a
 * worker-runner stand-in as `docker-worker run --config FILE --with-worker-runner`, speaking
 * worker-runner's protocol. Many workers on one queue, a worker killed, credentials renewed, and a
 * spot termination. Real engine, fake-taskcluster.
 */
import { startFakeTaskcluster, staticSecret, type FakeTaskcluster } from '@docker-worker/fake-taskcluster';
import { startWorkerRunner, type WorkerRunner } from '@docker-worker/fake-taskcluster/testing';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import taskcluster from 'taskcluster-client';
import type { Json, Queue } from 'taskcluster-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newSession } from './docker.js';
import { freePort, taskContainer } from './queue-harness.js';
import { CLI, removeWorkerResources, sweepStaleSessions } from './runner-harness.js';

const session = newSession();
const ADMIN = { clientId: 'admin', accessToken: 'admin-token-0123456789', scopes: ['*'] };
const dir = mkdtempSync(join(tmpdir(), 'worker-runner-e2e-'));
let tc: FakeTaskcluster;
let admin: Queue;
const runners: WorkerRunner[] = [];
const workerIds: string[] = [];
let pools = 0;

beforeAll(async () => {
  await sweepStaleSessions('e2e-wr-', `e2e-wr-${session}`);
  tc = await startFakeTaskcluster({
    clients: [ADMIN],
    host: '127.0.0.1',
    claimTimeoutSeconds: 6,
    claimWorkWaitMs: 500,
    sweepIntervalMs: 200,
    workerCredentialsTtlSeconds: 3600,
  });
  admin = new taskcluster.Queue({ rootUrl: tc.rootUrl, credentials: ADMIN });
});

afterAll(async () => {
  for (const r of runners)
    if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGKILL');
  await Promise.all(runners.map((r) => r.exited.catch(() => undefined)));
  for (const r of runners) await r.close().catch(() => undefined);
  for (const id of workerIds) await removeWorkerResources(id);
  await tc?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A worker pool of its own for one test, with `n` static workers. */
function pool(
  n: number,
  workerConfig: Json = {},
): { poolId: string; workers: { id: string; secret: string }[] } {
  const poolId = `e2e-wr/p${++pools}-${session.toLowerCase().replace(/[^a-z0-9]/g, '')}`.slice(0, 50);
  tc.workerManager.addPool({ workerPoolId: poolId, providerId: 'static', workerConfig });
  const workers = Array.from({ length: n }, (_, i) => {
    const id = `e2e-wr-${session}-${pools}-${i}`.slice(0, 38);
    const secret = staticSecret();
    tc.workerManager.addStaticWorker({
      workerPoolId: poolId,
      workerGroup: 'e2e',
      workerId: id,
      staticSecret: secret,
    });
    workerIds.push(id);
    return { id, secret };
  });
  return { poolId, workers };
}

async function startWorker(
  poolId: string,
  w: { id: string; secret: string },
  extra: Json = {},
): Promise<WorkerRunner> {
  const port = await freePort();
  const runner = await startWorkerRunner({
    rootUrl: tc.rootUrl,
    workerPoolId: poolId,
    workerGroup: 'e2e',
    workerId: w.id,
    staticSecret: w.secret,
    workerPath: CLI,
    env: { LOG_LEVEL: 'info' },
    extraConfig: {
      dockerWorker: {
        capacity: 2,
        pollingIntervalMs: 200,
        cacheVolumePrefix: `${w.id}-cache-`,
        workDir: join(dir, w.id),
        liveLog: { port, host: '127.0.0.1', publicUrl: `http://127.0.0.1:${port}` },
        capacityManagement: { diskspaceThreshold: 0 },
        ...(extra.dockerWorker as Json | undefined),
      },
    },
    ...(extra.renewBeforeSeconds ? { renewBeforeSeconds: extra.renewBeforeSeconds as number } : {}),
  });
  runners.push(runner);
  return runner;
}

async function createTask(poolId: string, command: string[]): Promise<string> {
  const taskId = taskcluster.slugid();
  const now = Date.now();
  await admin.createTask(taskId, {
    taskQueueId: poolId,
    created: new Date(now).toJSON(),
    deadline: new Date(now + 3600_000).toJSON(),
    expires: new Date(now + 86_400_000).toJSON(),
    retries: 3,
    payload: { image: 'debian:bookworm-slim', maxRunTime: 120, command },
    metadata: {
      name: 'e2e',
      description: 'worker-runner',
      owner: 'e2e@example.com',
      source: 'https://example.com/e2e',
    },
  });
  return taskId;
}

/** Every run of the task, once the last one is resolved. */
async function settled(
  taskId: string,
): Promise<
  { state: string; reasonResolved?: string; workerId?: string; started?: string; resolved?: string }[]
> {
  for (;;) {
    const status = tc.queue.statusOf(taskId);
    const last = status?.runs.at(-1);
    if (status && last && status.state !== 'pending' && status.state !== 'running') return status.runs;
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('workers started by worker-runner', () => {
  it('three workers (capacity 2) run 30 tasks from one queue: each once, never more than 6 at once', async () => {
    const { poolId, workers } = pool(3);
    const ids = await Promise.all(
      Array.from({ length: 30 }, () => createTask(poolId, ['/bin/sh', '-c', 'sleep 1'])),
    );
    const started = await Promise.all(workers.map((w) => startWorker(poolId, w)));
    await Promise.all(started.map((r) => r.waitForMessage('hello')));
    for (const r of started)
      expect([...r.agreed].sort()).toEqual([
        'error-report',
        'graceful-termination',
        'log',
        'new-credentials',
        'shutdown',
      ]);
    const runs = await Promise.all(ids.map(settled));
    for (const r of runs) expect(r.map((x) => x.state)).toEqual(['completed']);
    const spans = runs.map((r) => [Date.parse(r[0]!.started!), Date.parse(r[0]!.resolved!)] as const);
    const most = Math.max(...spans.map(([s]) => spans.filter(([a, b]) => a <= s && s < b).length));
    expect(most).toBeLessThanOrEqual(6);
    const spread = Object.fromEntries(
      workers.map((w) => [w.id, runs.filter((r) => r[0]!.workerId === w.id).length]),
    );
    console.log(`spread over workers: ${JSON.stringify(spread)}; at most ${most} at once`);
    expect(Object.values(spread).reduce((a, b) => a + b, 0)).toBe(30);
    // finish-tasks: true on an idle worker: it stops claiming, says shutdown, exits 0, is removed
    await Promise.all(started.map((r) => r.gracefulTermination(true)));
    for (const r of started) {
      expect(await r.exited).toBe(0);
      expect(r.messages.some((m) => m.type === 'shutdown')).toBe(true);
      expect(r.removed).toBe(true);
      expect(r.logs).toEqual([]); // stdout carried protocol lines only
    }
  });

  it('kill -9 of a worker holding tasks: its claims expire and the other worker runs the retries', async () => {
    const { poolId, workers } = pool(2);
    const [a, b] = workers as [{ id: string; secret: string }, { id: string; secret: string }];
    const ids = await Promise.all(
      // Short tasks: the survivor's end well before their first reclaim (at 3 s of a 6 s claim),
      // so the only claims that expire are the victim's (reclaims have tests of their own).
      Array.from({ length: 4 }, () => createTask(poolId, ['/bin/sh', '-c', 'sleep 1'])),
    );
    const victim = await startWorker(poolId, a);
    while (ids.every((id) => tc.queue.statusOf(id)?.runs[0]?.workerId !== a.id))
      await new Promise((r) => setTimeout(r, 100));
    victim.child.kill('SIGKILL');
    await victim.exited;
    const survivor = await startWorker(poolId, b);
    const runs = await Promise.all(ids.map(settled));
    for (const [i, r] of runs.entries()) {
      if (r.slice(0, -1).some((x) => x.workerId !== a.id))
        // What the survivor said about a run it lost, for whoever reads a failure.
        console.log(
          JSON.stringify(r),
          survivor.stderr.filter((line) => line.includes(ids[i]!)),
        );
      expect(r.at(-1)?.state).toBe('completed');
      for (const earlier of r.slice(0, -1))
        expect(earlier).toMatchObject({
          state: 'exception',
          reasonResolved: 'claim-expired',
          workerId: a.id,
        });
    }
    expect(runs.some((r) => r.length > 1)).toBe(true);
    await survivor.gracefulTermination(true);
    expect(await survivor.exited).toBe(0);
  });

  it('renews the worker credentials through new-credentials; claiming goes on, a running task is unharmed', async () => {
    const { poolId, workers } = pool(1);
    const w = workers[0]!;
    const runner = await startWorker(poolId, w, { renewBeforeSeconds: 3600 - 3 }); // renew 3 s after start
    const long = await createTask(poolId, ['/bin/sh', '-c', 'sleep 6; echo long done']);
    while (runner.credentialsRenewed === 0) await new Promise((r) => setTimeout(r, 100));
    // The instance's facts worker-runner wrote (its provider's metadata) reach the task.
    const after = await createTask(poolId, [
      '/bin/sh',
      '-c',
      'echo "after renewal ip=$TASKCLUSTER_PUBLIC_IP type=$TASKCLUSTER_INSTANCE_TYPE location=$TASKCLUSTER_WORKER_LOCATION"',
    ]);
    expect((await settled(long)).map((r) => r.state)).toEqual(['completed']);
    expect((await settled(after)).map((r) => r.state)).toEqual(['completed']);
    const log = await fetch(admin.buildUrl(admin.getArtifact, after, '0', 'public/logs/live.log')).then((r) =>
      r.text(),
    );
    expect(log).toContain('after renewal ip=127.0.0.1 type=static location={"cloud":"static"}');
    expect(runner.stderr.join('\n')).toContain('worker credentials renewed');
    await runner.gracefulTermination(true);
    expect(await runner.exited).toBe(0);
  });

  it('spot termination (finish-tasks: false) mid-task: worker-shutdown with its log, the retry runs on another worker', async () => {
    const { poolId, workers } = pool(2);
    const [a, b] = workers as [{ id: string; secret: string }, { id: string; secret: string }];
    const taskId = await createTask(poolId, [
      '/bin/sh',
      '-c',
      'if [ "$RUN_ID" = 0 ]; then echo first; sleep 300; fi; echo retried',
    ]);
    const spot = await startWorker(poolId, a);
    await taskContainer(taskId); // the task runs
    await spot.gracefulTermination(false);
    expect(await spot.exited).toBe(0);
    expect(spot.messages.some((m) => m.type === 'shutdown')).toBe(true);
    const other = await startWorker(poolId, b);
    const runs = await settled(taskId);
    // Run 0 aborted by the termination; a run its last long poll brought after it is handed back
    // at once (worker-shutdown too); the retry completes on the other worker.
    const summary = runs.map((r) => `${r.state}/${r.reasonResolved}/${r.workerId}`);
    expect(summary[0]).toBe(`exception/worker-shutdown/${a.id}`);
    expect(summary.slice(1, -1).every((x) => x === `exception/worker-shutdown/${a.id}`)).toBe(true);
    expect(summary.at(-1)).toBe(`completed/completed/${b.id}`);
    const log = await fetch(admin.buildUrl(admin.getArtifact, taskId, '0', 'public/logs/live.log')).then(
      (r) => r.text(),
    );
    expect(log).toContain('Task has been aborted prematurely. Reason: worker-shutdown');
    await other.gracefulTermination(true);
    expect(await other.exited).toBe(0);
  });
});
