#!/usr/bin/env node
// Queue-mode throughput: BENCH_TASKS (default 50) trivial tasks (debian:bookworm-slim, `true`)
// through ONE running `docker-worker start` with capacity 1, then another with capacity 4, timed
// from the first createTask to the last task resolved; as ratios to the same number of containers
// run by `docker run --rm` one after another and by `xargs -P4 docker run --rm`, measured in the
// same run. The fake Taskcluster runs in this process on 127.0.0.1; the queue state is read from
// it directly (`tc.queue.statusOf`). Everything is labelled with a workerId unique to the run and
// removed at the end.
// Run: node tools/bench.mjs queue   (needs: npx nx run-many -t build --projects=runner,fake-taskcluster)
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import taskcluster from 'taskcluster-client';
import { startFakeTaskcluster } from '../../fake-taskcluster/dist/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const cli = resolve(here, '../dist/cli.js');
const N = Number(process.env.BENCH_TASKS ?? 50);
if (!Number.isInteger(N) || N < 1)
  throw new Error(`BENCH_TASKS must be a positive integer, not ${process.env.BENCH_TASKS}`);
const IMAGE = 'debian:bookworm-slim';
const WORKER_LABEL = 'org.docker-worker.worker-id';
const PHASE_TIMEOUT_MS = 15 * 60_000;
const runId = `bench-queue-${process.pid}-${Date.now().toString(36)}`;
const BASELINE_LABEL = `${WORKER_LABEL}=${runId}-baseline`;
const ADMIN = { clientId: 'admin', accessToken: 'admin-token-0123456789', scopes: ['*'] };
const WORKER_TOKEN = 'worker-token-0123456789';
const tmp = mkdtempSync(join(tmpdir(), 'runner-queue-bench-'));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const seconds = (ms) => ms / 1000;

let tc;
const workers = [];

/** One `docker-worker start` of capacity `capacity`, on a queue of its own. */
async function startWorker(capacity) {
  const workerId = `${runId}-c${capacity}`;
  const workerType = workerId.slice(0, 38).replace(/-+$/, '');
  const taskQueueId = `bench-queue/${workerType}`;
  const workerGroup = 'bench';
  tc.store.addClient({
    clientId: `worker/${workerId}`,
    accessToken: WORKER_TOKEN,
    scopes: [`queue:claim-work:${taskQueueId}`, `queue:worker-id:${workerGroup}/*`],
  });
  const file = join(tmp, `worker-c${capacity}.json`);
  const workDir = join(tmp, `work-c${capacity}`);
  writeFileSync(
    file,
    JSON.stringify({
      taskQueueId,
      workerGroup,
      workerId,
      capacity,
      cacheVolumePrefix: `${workerId}-cache-`,
      workDir,
      pollingIntervalMs: 150,
      liveLog: { port: 0, host: '127.0.0.1' },
      capacityManagement: { diskspaceThreshold: 0 },
    }),
  );
  const child = spawn(process.execPath, [cli, 'start', '--config', file], {
    env: {
      ...process.env,
      TASKCLUSTER_ROOT_URL: tc.rootUrl,
      TASKCLUSTER_CLIENT_ID: `worker/${workerId}`,
      TASKCLUSTER_ACCESS_TOKEN: WORKER_TOKEN,
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (c) => (stderr = (stderr + c.toString()).slice(-20_000)));
  const exited = once(child, 'exit').then(([code, signal]) => ({ code, signal }));
  const w = { workerId, taskQueueId, workDir, child, exited, stderr: () => stderr, done: false };
  exited.then(() => (w.done = true));
  workers.push(w);
  // Ready once it has asked the queue for work (its start-up sweep is behind it).
  const client = `worker/${workerId}`;
  const deadline = Date.now() + 60_000;
  while (!tc.requests.some((r) => r.clientId === client && r.path.includes('claim-work'))) {
    if (w.done) throw new Error(`worker ${workerId} exited before claiming:\n${stderr}`);
    if (Date.now() > deadline) throw new Error(`worker ${workerId} did not claim within 60 s:\n${stderr}`);
    await sleep(50);
  }
  return w;
}

async function stopWorker(w) {
  if (!w.done) w.child.kill('SIGTERM');
  const t = setTimeout(() => w.done || w.child.kill('SIGKILL'), 30_000);
  await w.exited;
  clearTimeout(t);
}

/** N tasks through a worker of `capacity`: ms from the first createTask to the last resolution. */
async function queuePhase(capacity) {
  const w = await startWorker(capacity);
  const admin = new taskcluster.Queue({ rootUrl: tc.rootUrl, credentials: ADMIN });
  const ids = Array.from({ length: N }, () => taskcluster.slugid());
  const now = Date.now();
  const def = {
    taskQueueId: w.taskQueueId,
    created: new Date(now).toJSON(),
    deadline: new Date(now + 3600_000).toJSON(),
    expires: new Date(now + 86_400_000).toJSON(),
    scopes: [],
    retries: 0,
    payload: { image: IMAGE, command: ['true'], maxRunTime: 120 },
    metadata: {
      name: 'bench',
      description: 'queue bench',
      owner: 'bench@example.com',
      source: 'https://example.com/bench',
    },
  };
  const start = process.hrtime.bigint();
  await Promise.all(ids.map((id) => admin.createTask(id, def)));
  const created = Number(process.hrtime.bigint() - start) / 1e6;
  const states = {};
  const deadline = Date.now() + PHASE_TIMEOUT_MS;
  for (;;) {
    let open = 0;
    for (const id of ids) {
      const run = tc.queue.statusOf(id)?.runs.at(-1);
      if (!run || run.state === 'pending' || run.state === 'running') open++;
    }
    if (open === 0) break;
    if (w.done) throw new Error(`worker ${w.workerId} exited with ${open} tasks open:\n${w.stderr()}`);
    if (Date.now() > deadline) throw new Error(`${open} tasks still open after ${PHASE_TIMEOUT_MS / 1000} s`);
    await sleep(20);
  }
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  for (const id of ids) {
    const run = tc.queue.statusOf(id).runs.at(-1);
    const s = run.state === 'exception' ? `exception/${run.reasonResolved}` : run.state;
    states[s] = (states[s] ?? 0) + 1;
  }
  await stopWorker(w);
  if (states.completed !== N)
    throw new Error(`capacity ${capacity}: not all completed: ${JSON.stringify(states)}\n${w.stderr()}`);
  return { ms, createMs: created };
}

function timed(cmd, args, opts = {}) {
  const start = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return Number(process.hrtime.bigint() - start) / 1e6;
}
const dockerRun = ['run', '--rm', '--label', BASELINE_LABEL, IMAGE, 'true'];
function sequentialBaseline() {
  const start = process.hrtime.bigint();
  for (let i = 0; i < N; i++) timed('docker', dockerRun);
  return Number(process.hrtime.bigint() - start) / 1e6;
}
function parallelBaseline() {
  const input = Array.from({ length: N }, (_, i) => String(i)).join('\n') + '\n';
  return timed('xargs', ['-P4', '-I{}', 'docker', ...dockerRun], {
    input,
    stdio: ['pipe', 'ignore', 'pipe'],
  });
}

/** Removes every container, network and volume labelled with this run's ids. */
function removeLabelled() {
  const ids = [...workers.map((w) => w.workerId), `${runId}-baseline`];
  for (const id of ids) {
    const f = ['--filter', `label=${WORKER_LABEL}=${id}`];
    const list = (args) =>
      spawnSync('docker', [...args, ...f], { encoding: 'utf8' })
        .stdout?.split('\n')
        .filter(Boolean) ?? [];
    const containers = list(['ps', '-aq']);
    if (containers.length) spawnSync('docker', ['rm', '-f', ...containers], { stdio: 'ignore' });
    const networks = list(['network', 'ls', '-q']);
    if (networks.length) spawnSync('docker', ['network', 'rm', ...networks], { stdio: 'ignore' });
    const volumes = list(['volume', 'ls', '-q']);
    if (volumes.length) spawnSync('docker', ['volume', 'rm', '-f', ...volumes], { stdio: 'ignore' });
  }
}

let exitCode = 0;
try {
  tc = await startFakeTaskcluster({
    clients: [ADMIN],
    host: '127.0.0.1',
    claimTimeoutSeconds: 60,
    claimWorkWaitMs: 500,
    sweepIntervalMs: 200,
  });
  timed('docker', dockerRun); // warm-up
  const seq = sequentialBaseline();
  const c1 = await queuePhase(1);
  const par = parallelBaseline();
  const c4 = await queuePhase(4);

  const perMin = (ms) => (N / seconds(ms)) * 60;
  const rows = [
    ['capacity 1 vs sequential docker run', c1.ms, seq],
    ['capacity 4 vs xargs -P4 docker run', c4.ms, par],
  ];
  const pad = (s, n) => String(s).padEnd(n);
  const lpad = (s, n) => String(s).padStart(n);
  console.log(`${N} tasks (${IMAGE}, true); worker timed from the first createTask to the last resolution`);
  console.log(
    `${pad('measure', 38)}${lpad('worker s', 10)}${lpad('baseline s', 12)}${lpad('ratio', 8)}${lpad('tasks/min', 11)}${lpad('base/min', 10)}`,
  );
  for (const [name, w, b] of rows)
    console.log(
      `${pad(name, 38)}${lpad(seconds(w).toFixed(1), 10)}${lpad(seconds(b).toFixed(1), 12)}${lpad((w / b).toFixed(2) + 'x', 8)}${lpad(perMin(w).toFixed(1), 11)}${lpad(perMin(b).toFixed(1), 10)}`,
    );
  console.log(
    `(creating the ${N} tasks took ${c1.createMs.toFixed(0)} ms / ${c4.createMs.toFixed(0)} ms; capacity 4 vs capacity 1: ${(c1.ms / c4.ms).toFixed(2)}x faster)`,
  );
  const r3 = (x) => Number(x.toFixed(3));
  console.log(
    `BENCH_JSON ${JSON.stringify({
      tasks: N,
      capacity1Seconds: r3(seconds(c1.ms)),
      sequentialDockerRunSeconds: r3(seconds(seq)),
      capacity1Ratio: r3(c1.ms / seq),
      capacity1TasksPerMin: r3(perMin(c1.ms)),
      capacity4Seconds: r3(seconds(c4.ms)),
      xargsP4DockerRunSeconds: r3(seconds(par)),
      capacity4Ratio: r3(c4.ms / par),
      capacity4TasksPerMin: r3(perMin(c4.ms)),
    })}`,
  );
} catch (err) {
  console.error(`queue bench: ${err instanceof Error ? err.stack : err}`);
  exitCode = 1;
} finally {
  await Promise.all(workers.map(stopWorker));
  removeLabelled();
  await tc?.close();
  rmSync(tmp, { recursive: true, force: true });
}
process.exit(exitCode);
