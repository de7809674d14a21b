#!/usr/bin/env node
// Queue-mode throughput of trivial tasks (debian:bookworm-slim, `true`), timed from the first
// createTask to the last task resolved, as ratios to the same containers run by the docker CLI in
// the same run, the two sides alternating in rounds (10, 25 and 15 tasks; the worker stays up):
//   P1w  BENCH_TASKS (default 50) through one `docker-worker start`, capacity 1, vs as many
//        sequential `docker run --rm` (target <= 1.10x the time);
//   P6   BENCH_P6_TASKS (default 100), capacity 4, vs `xargs -P4 docker run --rm` (target >= 0.9x
//        the tasks/min);
//   #16  BENCH_FLEET_TASKS (default 30) through 3 workers of capacity 2 on one queue, vs
//        `xargs -P6 docker run --rm` (tasks/min).
// (P5q, the live log through a running worker, is in livelog.bench.mjs, beside P5 and their one
// raw baseline.)
// The engine's floor is measured too (on up to 30 of the tasks, scaled): the same `docker run --rm`s
// on a user-defined bridge with inter-container traffic off (what the worker's shared network is;
// the default bridge lets tasks reach each other), so each row also shows what the worker adds
// beyond the isolation it needs.
// Workers log at debug; the bench reads their per-stage times ('task stages', 'stage resolve')
// and the gap between a task's resolution and the next claim, and prints the breakdown.
// The fake Taskcluster runs in this process on 127.0.0.1; the queue state is read from
// it directly (`tc.queue.statusOf`). Everything is labelled with a workerId unique to the run and
// removed at the end.
// Run: node tools/bench.mjs queue   (needs: npx nx run-many -t build --projects=runner,fake-taskcluster)
import { spawn, spawnSync } from 'node:child_process';
import {
  ADMIN,
  benchTask,
  startBenchTaskcluster,
  startQueueWorker,
  stopQueueWorker,
} from './queue-worker.mjs';
import { removeWorkerLeftovers } from './worker-leftovers.mjs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import taskcluster from 'taskcluster-client';

const here = dirname(fileURLToPath(import.meta.url));
const cli = resolve(here, '../dist/cli.js');
const count = (name, dflt) => {
  const n = Number(process.env[name] ?? dflt);
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`${name} must be a positive integer, not ${process.env[name]}`);
  return n;
};
const N1 = count('BENCH_TASKS', 50);
const N4 = count('BENCH_P6_TASKS', 100);
const NF = count('BENCH_FLEET_TASKS', 30);
const IMAGE = 'debian:bookworm-slim';
const WORKER_LABEL = 'org.docker-worker.worker-id';
const PHASE_TIMEOUT_MS = 10 * 60_000;
const runId = `bench-queue-${process.pid}-${Date.now().toString(36)}`;
const BASELINE_LABEL = `${WORKER_LABEL}=${runId}-baseline`;
const tmp = mkdtempSync(join(tmpdir(), 'runner-queue-bench-'));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const seconds = (ms) => ms / 1000;
const median = (xs) => (xs.length ? [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] : 0);

let tc;
const workers = [];

/** One `docker-worker start` of `capacity` on `taskQueueId`; its debug log is parsed as it comes. */
async function startWorker(workerId, taskQueueId, capacity) {
  const config = { cacheVolumePrefix: `${workerId}-cache-`, pollingIntervalMs: 150 };
  const w = await startQueueWorker({ tc, cli, tmp, workerId, taskQueueId, capacity, config });
  workers.push(w);
  return w;
}

/**
 * `tasks` tasks through `count` workers of `capacity` on one queue, in `rounds` rounds, each
 * after the same share of the baseline (`baseline(n)`: ms of `n` docker runs), so that a host whose
 * speed drifts (a shared hypervisor) weighs on both sides alike. Returns the summed ms of each side
 * (the worker's from each round's first createTask to its last resolution) and their CPU.
 */
async function interleavedPhase(name, { tasks, count, capacity, rounds, baseline }) {
  const queueName = `${runId}-${name}`.slice(0, 38).replace(/-+$/, '');
  const taskQueueId = `bench-queue/${queueName.toLowerCase().replace(/[^a-z0-9-]/g, '-')}`;
  const ws = [];
  for (let i = 0; i < count; i++)
    ws.push(await startWorker(`${runId}-${name}-${i}`.slice(-38), taskQueueId, capacity));
  const admin = new taskcluster.Queue({ rootUrl: tc.rootUrl, credentials: ADMIN });
  const def = benchTask(taskQueueId, { image: IMAGE, command: ['true'], maxRunTime: 120 }, 'queue bench');
  const ids = [];
  let ms = 0;
  let baseMs = 0;
  let baseMachine = 0;
  let cpu = { workers: 0, fake: 0, machine: 0 };
  for (let round = 0; round < rounds; round++) {
    const n = Math.floor((tasks * (round + 1)) / rounds) - Math.floor((tasks * round) / rounds);
    const machine = phaseCpu([]).machine;
    baseMs += await baseline(n);
    baseMachine += phaseCpu([]).machine - machine;
    const roundIds = Array.from({ length: n }, () => taskcluster.slugid());
    ids.push(...roundIds);
    const cpuBefore = phaseCpu(ws);
    const start = process.hrtime.bigint();
    await Promise.all(roundIds.map((id) => admin.createTask(id, def)));
    const deadline = Date.now() + PHASE_TIMEOUT_MS;
    for (;;) {
      const open = roundIds.filter((id) => {
        const run = tc.queue.statusOf(id)?.runs.at(-1);
        return !run || run.state === 'pending' || run.state === 'running';
      }).length;
      if (open === 0) break;
      const dead = ws.find((w) => w.done);
      if (dead) throw new Error(`worker ${dead.workerId} exited with ${open} tasks open:\n${dead.tail}`);
      if (Date.now() > deadline)
        throw new Error(`${open} tasks still open after ${PHASE_TIMEOUT_MS / 1000} s`);
      await sleep(20);
    }
    ms += Number(process.hrtime.bigint() - start) / 1e6;
    const used = cpuSince(cpuBefore, phaseCpu(ws));
    cpu = {
      workers: cpu.workers + used.workers,
      fake: cpu.fake + used.fake,
      machine: cpu.machine + used.machine,
    };
  }
  const states = {};
  for (const id of ids) {
    const run = tc.queue.statusOf(id).runs.at(-1);
    const st = run.state === 'exception' ? `exception/${run.reasonResolved}` : run.state;
    states[st] = (states[st] ?? 0) + 1;
  }
  await Promise.all(ws.map(stopQueueWorker));
  if (states.completed !== tasks)
    throw new Error(`${name}: not all completed: ${JSON.stringify(states)}\n${ws[0].tail}`);
  return { ms, workers: ws, cpu, baseMs, baseMachine };
}

/** CPU seconds (user + system) of a process so far, from /proc/<pid>/stat. */
function cpuOf(pid) {
  const f = spawnSync('cat', [`/proc/${pid}/stat`], { encoding: 'utf8' })
    .stdout.split(') ')[1]
    .split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}
/** The workers', this process's (the fake Taskcluster) and the whole machine's CPU so far. */
function phaseCpu(ws) {
  const stat = spawnSync('cat', ['/proc/stat'], { encoding: 'utf8' })
    .stdout.split('\n')[0]
    .trim()
    .split(/\s+/)
    .slice(1, 9)
    .map(Number);
  const self = process.cpuUsage();
  return {
    workers: ws.reduce((sum, w) => sum + cpuOf(w.child.pid), 0),
    fake: (self.user + self.system) / 1e6,
    // All but idle, iowait and steal (the hypervisor running someone else: not this machine's work).
    machine: (stat.reduce((a, b) => a + b, 0) - stat[3] - stat[4] - stat[7]) / 100,
  };
}
const cpuSince = (a, b) => ({
  workers: b.workers - a.workers,
  fake: b.fake - a.fake,
  machine: b.machine - a.machine,
});

/** Median per stage over the tasks of one phase, and the gap from a resolution to the worker's next claim. */
function breakdown(ws) {
  const all = ws.flatMap((w) => w.stages);
  const out = {};
  for (const key of ['prepare_script', 'step_script', 'upload_artifacts', 'cleanup', 'upload_log'])
    out[key] = Math.round(median(all.map((st) => st[key] ?? 0)));
  out.resolve = Math.round(median(ws.flatMap((w) => w.resolves)));
  const gaps = ws.flatMap((w) =>
    w.events.flatMap((e, i) => {
      const prev = w.events[i - 1];
      return e.msg === 'claimed' && prev?.msg === 'task resolved' ? [e.time - prev.time] : [];
    }),
  );
  out.resolved_to_next_claim = Math.round(median(gaps));
  return out;
}

/**
 * ms of one command, run asynchronously: the fake Taskcluster in this process keeps answering the
 * idle workers meanwhile (blocked by a spawnSync, it closed their kept-alive connections late, and
 * a claimWork reset that way cost a worker its 5 s back-off).
 */
function timed(cmd, args, { input } = {}) {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn(cmd, args, { stdio: [input === undefined ? 'ignore' : 'pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c) => (stderr += c));
    child.once('error', reject);
    child.once('close', (code) =>
      code === 0
        ? resolve(Number(process.hrtime.bigint() - start) / 1e6)
        : reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${stderr}`)),
    );
    if (input !== undefined) child.stdin.end(input);
  });
}
const dockerRun = ['run', '--rm', '--label', BASELINE_LABEL, IMAGE, 'true'];
const FLOOR_NET = `docker-worker-${runId}-floor`.slice(0, 60);
const floorRun = ['run', '--rm', '--label', BASELINE_LABEL, '--network', FLOOR_NET, IMAGE, 'true'];
async function sequentialBaseline(n, args = dockerRun) {
  let ms = 0;
  for (let i = 0; i < n; i++) ms += await timed('docker', args);
  return ms;
}
function parallelBaseline(n, p, args = dockerRun) {
  const input = Array.from({ length: n }, (_, i) => String(i)).join('\n') + '\n';
  return timed('xargs', [`-P${p}`, '-I{}', 'docker', ...args], { input });
}

/**
 * The engine floor of `n` tasks from at most FLOOR_TASKS of them, scaled to `n`: it explains a row,
 * it is not its baseline, and fewer runs keep the whole bench within 10 minutes.
 */
const FLOOR_TASKS = 30;
async function floorOf(n, measure) {
  const m = Math.min(n, FLOOR_TASKS);
  return ((await measure(m)) * n) / m;
}

/**
 * One row: its worker phase in rounds of about `roundSize` tasks, alternating with its baseline
 * (`p` docker runs at a time, 1: one after another), then the engine floor of the same.
 */
async function row(name, { tasks, count, capacity, roundSize, p }) {
  const base = (n, args) => (p === 1 ? sequentialBaseline(n, args) : parallelBaseline(n, p, args));
  const rounds = Math.max(1, Math.round(tasks / roundSize));
  const run = await interleavedPhase(name, { tasks, count, capacity, rounds, baseline: (n) => base(n) });
  const floor = await floorOf(tasks, (n) => base(n, floorRun));
  return { run, floor };
}

/** Removes every container, network and volume labelled with this run's worker ids. */
async function removeLabelled() {
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
  await removeWorkerLeftovers(ids);
}

let exitCode = 0;
try {
  tc = await startBenchTaskcluster();
  await timed('docker', [
    'network',
    'create',
    '--label',
    BASELINE_LABEL,
    '-o',
    'com.docker.network.bridge.enable_icc=false',
    FLOOR_NET,
  ]);
  await timed('docker', dockerRun); // warm-up
  await timed('docker', floorRun);
  // Rounds of 10 (P1w), 25 (P6) and 15 (#16) tasks, each after as many docker runs.
  const { run: c1, floor: seqFloor } = await row('c1', {
    tasks: N1,
    count: 1,
    capacity: 1,
    roundSize: 10,
    p: 1,
  });
  const { run: c4, floor: par4Floor } = await row('c4', {
    tasks: N4,
    count: 1,
    capacity: 4,
    roundSize: 25,
    p: 4,
  });
  const { run: fleet, floor: par6Floor } = await row('fleet', {
    tasks: NF,
    count: 3,
    capacity: 2,
    roundSize: 15,
    p: 6,
  });
  const [seq, seqMachine] = [c1.baseMs, c1.baseMachine];
  const [par4, par4Machine] = [c4.baseMs, c4.baseMachine];
  const [par6, par6Machine] = [fleet.baseMs, fleet.baseMachine];

  const perMin = (n, ms) => (n / seconds(ms)) * 60;
  const r3 = (x) => Number(x.toFixed(3));
  // ratio: worker time / baseline time for P1w (lower is better); tasks/min ratio for the others.
  const rows = [
    {
      id: 'P1w',
      measure: `${N1} tasks, 1 worker, capacity 1 vs ${N1} sequential docker run --rm`,
      tasks: N1,
      w: c1.ms,
      b: seq,
      f: seqFloor,
      cpu: c1.cpu,
      baseMachine: seqMachine,
      kind: 'time',
      target: 1.1,
    },
    {
      id: 'P6',
      measure: `${N4} tasks, 1 worker, capacity 4 vs xargs -P4 docker run --rm`,
      tasks: N4,
      w: c4.ms,
      b: par4,
      f: par4Floor,
      cpu: c4.cpu,
      baseMachine: par4Machine,
      kind: 'rate',
      target: 0.9,
    },
    {
      id: '#16',
      measure: `${NF} tasks, 3 workers x capacity 2 vs xargs -P6 docker run --rm`,
      tasks: NF,
      w: fleet.ms,
      b: par6,
      f: par6Floor,
      cpu: fleet.cpu,
      baseMachine: par6Machine,
      kind: 'rate',
      target: 0.9,
    },
  ].map((r) => {
    const ratio = r.kind === 'time' ? r.w / r.b : r.b / r.w;
    const overFloor = r.kind === 'time' ? r.w / r.f : r.f / r.w;
    const met = r.kind === 'time' ? ratio <= r.target : ratio >= r.target;
    return {
      ...r,
      ratio,
      overFloor,
      met,
      workerPerMin: perMin(r.tasks, r.w),
      basePerMin: perMin(r.tasks, r.b),
      floorPerMin: perMin(r.tasks, r.f),
    };
  });
  const pad = (x, n) => String(x).padEnd(n);
  const lpad = (x, n) => String(x).padStart(n);
  console.log(
    `${pad('id', 5)}${pad('measure', 66)}${lpad('worker s', 9)}${lpad('base s', 8)}${lpad('/min', 7)}${lpad('base/min', 9)}${lpad('ratio', 8)}${lpad('target', 8)}`,
  );
  for (const r of rows)
    console.log(
      `${pad(r.id, 5)}${pad(r.measure, 66)}${lpad(seconds(r.w).toFixed(1), 9)}${lpad(seconds(r.b).toFixed(1), 8)}${lpad(r.workerPerMin.toFixed(0), 7)}${lpad(r.basePerMin.toFixed(0), 9)}${lpad(r.ratio.toFixed(2) + 'x', 8)}${lpad((r.kind === 'time' ? '<=' : '>=') + r.target, 8)}${r.met ? '' : '  missed'}`,
    );
  console.log('(P1w: worker time / baseline time; P6, #16: worker tasks/min / baseline tasks/min)');
  console.log(
    'the engine floor (the same docker runs on an icc=false user-defined bridge, as isolated as the worker):',
  );
  for (const r of rows)
    console.log(
      `  ${pad(r.id, 5)}floor ${seconds(r.f).toFixed(1)} s = ${r.floorPerMin.toFixed(0)}/min (${(r.kind === 'time' ? r.f / r.b : r.b / r.f).toFixed(2)}x of plain docker run); worker vs floor ${r.overFloor.toFixed(2)}x`,
    );
  console.log(
    'CPU per task (ms of one core; the worker processes, the fake Taskcluster in this process, the whole machine):',
  );
  for (const r of rows) {
    const per = (sec) => ((sec * 1000) / r.tasks).toFixed(0);
    console.log(
      `  ${pad(r.id, 5)}workers ${per(r.cpu.workers)}, fake Taskcluster ${per(r.cpu.fake)}, machine ${per(r.cpu.machine)} (${(r.cpu.machine / seconds(r.w)).toFixed(2)} cores busy); the docker runs: machine ${per(r.baseMachine)} (${(r.baseMachine / seconds(r.b)).toFixed(2)} cores busy)`,
    );
  }
  const parts = { P1w: breakdown(c1.workers), P6: breakdown(c4.workers), '#16': breakdown(fleet.workers) };
  console.log(
    'breakdown per task in the worker (median ms; docker run --rm of one task here: ' +
      (seq / N1).toFixed(0) +
      ' ms):',
  );
  const keys = Object.keys(parts.P1w);
  console.log(
    `  ${pad('stage', 24)}${Object.keys(parts)
      .map((k) => lpad(k, 8))
      .join('')}`,
  );
  for (const k of keys)
    console.log(
      `  ${pad(k, 24)}${Object.values(parts)
        .map((p) => lpad(p[k], 8))
        .join('')}`,
    );
  console.log(
    `BENCH_JSON ${JSON.stringify({
      rows: rows.map((r) => ({
        id: r.id,
        measure: r.measure,
        ratio: r3(r.ratio),
        target: r.target,
        better: r.kind === 'time' ? 'lower' : 'higher',
        met: r.met,
        workerSeconds: r3(seconds(r.w)),
        baselineSeconds: r3(seconds(r.b)),
        workerTasksPerMin: r3(r.workerPerMin),
        baselineTasksPerMin: r3(r.basePerMin),
        floorSeconds: r3(seconds(r.f)),
        overFloorRatio: r3(r.overFloor),
        cpuMsPerTask: {
          workers: Math.round((r.cpu.workers * 1000) / r.tasks),
          fakeTaskcluster: Math.round((r.cpu.fake * 1000) / r.tasks),
          machine: Math.round((r.cpu.machine * 1000) / r.tasks),
          baselineMachine: Math.round((r.baseMachine * 1000) / r.tasks),
        },
      })),
      breakdownMs: parts,
    })}`,
  );
} catch (err) {
  console.error(`queue bench: ${err instanceof Error ? err.stack : err}`);
  exitCode = 1;
} finally {
  await Promise.all(workers.map(stopQueueWorker));
  await removeLabelled();
  await tc?.close();
  rmSync(tmp, { recursive: true, force: true });
}
process.exit(exitCode);
