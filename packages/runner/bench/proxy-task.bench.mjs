#!/usr/bin/env node
// P2: a trivial task with features.taskclusterProxy through `docker-worker run`, against the same
// done by hand with the docker CLI: create a network, start the proxy image on it (alias
// taskcluster) and wait for its "listening" line, run the task on it, remove the proxy and the
// network. Alternating, BENCH_RUNS (default 5) each after one warm-up; medians. The proxy is
// never called (the task runs `true`), so the root URL is a placeholder on loopback.
// P2w: the same task through a running worker (`docker-worker start`, capacity 1, a fake
// Taskcluster in this process on loopback), timed from createTask to the run resolved, one task at
// a time, alternating with the same by-hand flow: the worker's own cost without a Node start.
// Run: node tools/bench.mjs proxy-task   (needs the runner and fake-taskcluster built, the proxy image)
import { runArgs } from './cli-args.mjs';
import {
  ADMIN,
  benchTask,
  startBenchTaskcluster,
  startQueueWorker,
  stopQueueWorker,
} from './queue-worker.mjs';
import { removeWorkerLeftovers } from './worker-leftovers.mjs';
import { spawnSync } from 'node:child_process';
import taskcluster from 'taskcluster-client';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const cli = resolve(here, '../dist/cli.js');
const N = Number(process.env.BENCH_RUNS ?? 5);
const IMAGE = 'debian:bookworm-slim';
const PROXY = 'docker-worker/taskcluster-proxy:latest';
const WORKER_ID = `bench-proxy-${process.pid}`;
const LABEL = `org.docker-worker.worker-id=${WORKER_ID}`;
const env = {
  TASKCLUSTER_ROOT_URL: 'http://127.0.0.1:9',
  TASKCLUSTER_CLIENT_ID: 'bench',
  TASKCLUSTER_ACCESS_TOKEN: 'bench-token-0123456789',
};
const tmp = mkdtempSync(join(tmpdir(), 'runner-proxy-bench-'));
const taskFile = join(tmp, 'task.json');
writeFileSync(
  taskFile,
  JSON.stringify({
    payload: { image: IMAGE, command: ['true'], maxRunTime: 60, features: { taskclusterProxy: true } },
  }),
);
writeFileSync(join(tmp, 'worker.json'), JSON.stringify({ workerId: WORKER_ID, workDir: join(tmp, 'work') }));
const median = (xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
const now = () => Number(process.hrtime.bigint()) / 1e6;

function sh(cmd, args, extraEnv) {
  const r = spawnSync(cmd, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    encoding: 'utf8',
    env: { ...process.env, ...extraEnv },
  });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return r;
}

const stageRuns = [];
function worker(i) {
  const start = now();
  const r = sh(process.execPath, runArgs(cli, taskFile, tmp, i), { ...env, LOG_LEVEL: 'debug' });
  const ms = now() - start;
  const lines = r.stderr
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l));
  const stages = lines.find((l) => l.msg === 'task stages')?.stages ?? {};
  const proxyStart =
    lines.find((l) => l.msg === 'stage prepare_script' && l.feature === 'taskclusterProxy')?.ms ?? 0;
  stageRuns.push({ ...stages, 'prepare_script: proxy sidecar': proxyStart, wall: ms });
  return ms;
}

/** Per-step times of each run by hand (the same steps as the worker's, by the docker CLI). */
const handRuns = [];
function byHand(i) {
  const net = `bench-proxy-net-${process.pid}-${i}`;
  const start = now();
  const steps = {};
  let last = start;
  const step = (name) => {
    const t = now();
    steps[name] = t - last;
    last = t;
  };
  sh('docker', ['network', 'create', '--label', LABEL, net]);
  step('network create');
  const proxy = sh('docker', [
    'run',
    '-d',
    '--label',
    LABEL,
    '--network',
    net,
    '--network-alias',
    'taskcluster',
    ...Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`]),
    PROXY,
  ]).stdout.trim();
  step('proxy run -d');
  while (!sh('docker', ['logs', proxy]).stdout.includes('"listening"')) {
    /* poll: each docker logs takes ~20-30 ms */
  }
  step('proxy until listening');
  sh('docker', ['run', '--rm', '--label', LABEL, '--network', net, IMAGE, 'true']);
  step('task run --rm');
  sh('docker', ['rm', '-f', '-v', proxy]);
  step('proxy rm -f');
  sh('docker', ['network', 'rm', net]);
  step('network rm');
  handRuns.push({ ...steps, total: now() - start });
  return now() - start;
}

/** P2w: one `docker-worker start` (capacity 1) on a fake Taskcluster; `task()` times one task. */
const Q_WORKER_ID = `${WORKER_ID}-q`;
let tc;
let queueWorker;
async function startWorkerOnQueue() {
  // A long poll of 2 s: a task created meanwhile is handed over at once, the idle worker asks the
  // queue every ~2 s beside the by-hand runs, and its start (handed back once its first claimWork
  // has been answered) waits 2 s, not the fake's default 20.
  tc = await startBenchTaskcluster(2_000);
  const taskQueueId = `bench-proxy/p${process.pid}`;
  queueWorker = await startQueueWorker({
    tc,
    cli,
    tmp,
    workerId: Q_WORKER_ID,
    taskQueueId,
    capacity: 1,
    config: { pollingIntervalMs: 150 },
  });
}

async function queueTask() {
  const admin = new taskcluster.Queue({ rootUrl: tc.rootUrl, credentials: ADMIN });
  const taskId = taskcluster.slugid();
  const start = now();
  await admin.createTask(
    taskId,
    benchTask(
      queueWorker.taskQueueId,
      { image: IMAGE, command: ['true'], maxRunTime: 60, features: { taskclusterProxy: true } },
      'P2w',
    ),
  );
  const deadline = Date.now() + 120_000;
  for (;;) {
    const run = tc.queue.statusOf(taskId)?.runs.at(-1);
    if (run && run.state !== 'pending' && run.state !== 'running') {
      if (run.state !== 'completed')
        throw new Error(`P2w task resolved ${run.state}/${run.reasonResolved}:\n${queueWorker.tail}`);
      return now() - start;
    }
    if (queueWorker.done) throw new Error(`the worker exited:\n${queueWorker.tail}`);
    if (Date.now() > deadline) throw new Error(`P2w task not resolved within 120 s:\n${queueWorker.tail}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

let code = 0;
try {
  worker('warm');
  byHand('warm');
  stageRuns.length = 0;
  handRuns.length = 0;
  const a = [];
  const b = [];
  for (let i = 0; i < N; i++) {
    b.push(byHand(i));
    a.push(worker(i));
  }
  await startWorkerOnQueue();
  await queueTask(); // warm-up
  queueWorker.stages.length = 0;
  const qa = [];
  const qb = [];
  for (let i = 0; i < N; i++) {
    qb.push(byHand(`q${i}`));
    qa.push(await queueTask());
  }
  const w = median(a);
  const h = median(b);
  const ratio = w / h;
  const qw = median(qa);
  const qh = median(qb);
  const qratio = qw / qh;
  console.log(`by hand (network, proxy until listening, task, removal)  median ${h.toFixed(0)} ms over ${N}`);
  console.log(`docker-worker run with features.taskclusterProxy       median ${w.toFixed(0)} ms over ${N}`);
  console.log(`ratio P2 worker / by hand: ${ratio.toFixed(2)}x (target <= 1.10)`);
  console.log(`P2w by hand, alternating with the queue tasks       median ${qh.toFixed(0)} ms over ${N}`);
  console.log(`P2w running worker, createTask -> resolved          median ${qw.toFixed(0)} ms over ${N}`);
  console.log(`ratio P2w running worker / by hand: ${qratio.toFixed(2)}x (target <= 1.10)`);
  const stages = {};
  for (const key of new Set(stageRuns.flatMap((r) => Object.keys(r))))
    stages[key] = Math.round(median(stageRuns.map((r) => r[key] ?? 0)));
  const handSteps = {};
  for (const key of Object.keys(handRuns[0] ?? {}))
    handSteps[key] = Math.round(median(handRuns.map((r) => r[key] ?? 0)));
  console.log('breakdown by hand (median ms):');
  for (const [k, v] of Object.entries(handSteps)) console.log(`  ${k.padEnd(30)}${String(v).padStart(6)}`);
  console.log('breakdown of the worker run (median ms):');
  for (const [k, v] of Object.entries(stages)) console.log(`  ${k.padEnd(30)}${String(v).padStart(6)}`);
  const qStages = {};
  for (const key of new Set(queueWorker.stages.flatMap((r) => Object.keys(r))))
    qStages[key] = Math.round(median(queueWorker.stages.map((r) => r[key] ?? 0)));
  console.log(
    'breakdown of a task in the running worker (median ms; the rest of createTask -> resolved is the claim):',
  );
  for (const [k, v] of Object.entries(qStages)) console.log(`  ${k.padEnd(30)}${String(v).padStart(6)}`);
  console.log(
    `BENCH_JSON ${JSON.stringify({
      rows: [
        {
          id: 'P2',
          measure: 'task with taskclusterProxy via the worker vs network + proxy + task + teardown by hand',
          ratio: Number(ratio.toFixed(3)),
          target: 1.1,
          better: 'lower',
          met: ratio <= 1.1,
        },
        {
          id: 'P2w',
          measure:
            'task with taskclusterProxy through a running worker (createTask -> resolved) vs the same by hand',
          ratio: Number(qratio.toFixed(3)),
          target: 1.1,
          better: 'lower',
          met: qratio <= 1.1,
        },
      ],
      queueWorkerMedianMs: Math.round(qw),
      queueByHandMedianMs: Math.round(qh),
      queueStagesMedianMs: qStages,
      workerMedianMs: Math.round(w),
      byHandMedianMs: Math.round(h),
      stagesMedianMs: stages,
      byHandStepsMedianMs: handSteps,
    })}`,
  );
} catch (err) {
  console.error(`proxy-task bench: ${err instanceof Error ? err.stack : err}`);
  code = 1;
} finally {
  if (queueWorker) await stopQueueWorker(queueWorker);
  await tc?.close();
  for (const id of [WORKER_ID, Q_WORKER_ID]) {
    const f = ['--filter', `label=org.docker-worker.worker-id=${id}`];
    const list = (args) =>
      spawnSync('docker', [...args, ...f], { encoding: 'utf8' })
        .stdout.split('\n')
        .filter(Boolean);
    const cs = list(['ps', '-aq']);
    if (cs.length) spawnSync('docker', ['rm', '-f', '-v', ...cs], { stdio: 'ignore' });
    for (const n of list(['network', 'ls', '-q']))
      spawnSync('docker', ['network', 'rm', n], { stdio: 'ignore' });
  }
  await removeWorkerLeftovers([WORKER_ID, Q_WORKER_ID]);
  rmSync(tmp, { recursive: true, force: true });
}
process.exit(code);
