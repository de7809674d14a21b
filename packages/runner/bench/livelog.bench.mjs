#!/usr/bin/env node
// BENCH_LOG_MIB (default 1024) MiB of task stdout (100-byte lines) through the live log, against
// the same container's output read raw from the engine by `docker run` (to /dev/null), measured
// once between the two (after a small warm-up), so that each is next to its baseline:
//   P5   through `docker-worker run` (live log file, secret redaction, stdout as the reader
//        following it); RSS growth: the runner's peak RSS (GNU time %M) minus its peak on a
//        trivial task. Its stage times (debug log) show where the time goes: step_script is the
//        container streaming, upload_log storing the closed log (a rename, its digest taken while
//        written);
//   P5q  through a running worker (`docker-worker start`, a fake Taskcluster in this process on
//        loopback), one HTTP reader following the queue's live.log reference to its end, timed
//        from createTask to the reader's last byte; the worker's peak RSS growth (VmHWM) over the task.
// Run: node tools/bench.mjs livelog   (needs the runner and fake-taskcluster built)
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
import { mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import taskcluster from 'taskcluster-client';

const here = dirname(fileURLToPath(import.meta.url));
const cli = resolve(here, '../dist/cli.js');
const MIB = Number(process.env.BENCH_LOG_MIB ?? 1024);
const IMAGE = 'debian:bookworm-slim';
const WORKER_ID = `bench-livelog-${process.pid}`;
const Q_WORKER_ID = `${WORKER_ID}-q`;
const tmp = mkdtempSync(join(tmpdir(), 'runner-livelog-bench-'));
const script = (mib) =>
  `yes 'docker-worker live log benchmark line, one hundred bytes long with its newline: 0123456789' | head -c ${mib * 1048576}`;
writeFileSync(join(tmp, 'worker.json'), JSON.stringify({ workerId: WORKER_ID, workDir: join(tmp, 'work') }));
const devNull = openSync('/dev/null', 'w');
const now = () => Number(process.hrtime.bigint()) / 1e6;

/** ms, peak RSS (KiB) and stderr of a command, stdout to /dev/null. */
function run(cmd, args, env = process.env) {
  const start = now();
  const r = spawnSync('/usr/bin/time', ['-f', 'PEAK_RSS_KIB %M', cmd, ...args], {
    stdio: ['ignore', devNull, 'pipe'],
    encoding: 'utf8',
    env,
    maxBuffer: 64 * 1048576,
  });
  const ms = now() - start;
  if (r.status !== 0) throw new Error(`${cmd} exited ${r.status}: ${r.stderr.slice(-2000)}`);
  return { ms, rssKiB: Number(/PEAK_RSS_KIB (\d+)/.exec(r.stderr)?.[1] ?? 0), stderr: r.stderr };
}
/** Seconds per stage from the runner's debug log (`"stage":"step_script","ms":16444.4`). */
function stages(stderr) {
  const total = {};
  for (const [, stage, ms] of stderr.matchAll(/"stage":"(\w+)","ms":([\d.]+)/g))
    total[stage] = (total[stage] ?? 0) + Number(ms) / 1000;
  return Object.entries(total)
    .map(([stage, s]) => `${stage} ${s.toFixed(2)} s`)
    .join(', ');
}
function worker(mib, i) {
  const task = join(tmp, `task-${i}.json`);
  writeFileSync(
    task,
    JSON.stringify({ payload: { image: IMAGE, command: ['sh', '-c', script(mib)], maxRunTime: 600 } }),
  );
  return run(process.execPath, runArgs(cli, task, tmp, i), { ...process.env, LOG_LEVEL: 'debug' });
}
const raw = (mib) => run('docker', ['run', '--rm', IMAGE, 'sh', '-c', script(mib)]);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Peak RSS (VmHWM) of a process so far, in KiB. */
const peakKiB = (pid) =>
  Number(/^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);

/**
 * P5q: one task printing `mib` MiB through a running worker, read over HTTP from the live log
 * reference as it is written: ms from createTask to the reader's last byte, RSS growth.
 */
async function queueWorker(tc, mib) {
  const w = await startQueueWorker({
    tc,
    cli,
    tmp,
    workerId: Q_WORKER_ID,
    taskQueueId: `bench-livelog/q${process.pid}`,
    capacity: 1,
    config: { pollingIntervalMs: 150 },
  });
  try {
    const before = peakKiB(w.child.pid);
    const admin = new taskcluster.Queue({ rootUrl: tc.rootUrl, credentials: ADMIN });
    const taskId = taskcluster.slugid();
    const start = now();
    await admin.createTask(
      taskId,
      benchTask(w.taskQueueId, { image: IMAGE, command: ['sh', '-c', script(mib)], maxRunTime: 600 }, 'P5q'),
    );
    const url = admin.buildUrl(admin.getArtifact, taskId, '0', 'public/logs/live.log');
    const deadline = Date.now() + 10 * 60_000;
    let location;
    while (!location) {
      if (w.done) throw new Error(`worker exited before the live log was there:\n${w.tail}`);
      if (Date.now() > deadline) throw new Error('no live log reference within 10 minutes');
      const res = await fetch(url, { redirect: 'manual' });
      await res.body?.cancel();
      const to = res.headers.get('location');
      if (res.status === 303 && to?.includes('/log/')) location = to;
      else await sleep(10);
    }
    const res = await fetch(location);
    if (!res.ok || !res.body) throw new Error(`live log answered ${res.status}`);
    let bytes = 0;
    for await (const chunk of res.body) bytes += chunk.length;
    const ms = now() - start;
    const growthMiB = (peakKiB(w.child.pid) - before) / 1024;
    for (;;) {
      const run = tc.queue.statusOf(taskId)?.runs.at(-1);
      if (run && run.state !== 'pending' && run.state !== 'running') {
        if (run.state !== 'completed') throw new Error(`the live log task resolved ${run.state}:\n${w.tail}`);
        break;
      }
      if (Date.now() > deadline) throw new Error('the live log task did not resolve within 10 minutes');
      await sleep(20);
    }
    if (bytes < mib * 1048576) throw new Error(`the reader got ${bytes} bytes, fewer than the task printed`);
    return { ms, growthMiB };
  } finally {
    await stopQueueWorker(w);
  }
}

let code = 0;
let tc;
try {
  const idle = worker(1, 'small');
  raw(1);
  const w = worker(MIB, 'big');
  const base = raw(MIB);
  tc = await startBenchTaskcluster();
  const q = await queueWorker(tc, MIB);
  const ratio = base.ms / w.ms; // throughput ratio
  const qRatio = base.ms / q.ms;
  const growthMiB = (w.rssKiB - idle.rssKiB) / 1024;
  const rate = (ms) => `${(ms / 1000).toFixed(1)} s = ${(MIB / (ms / 1000)).toFixed(0)} MiB/s`;
  console.log(`docker run (raw engine output to /dev/null): ${MIB} MiB in ${rate(base.ms)}`);
  console.log(`docker-worker run (live log file + redaction + stdout): ${rate(w.ms)} (${stages(w.stderr)})`);
  console.log(
    `P5 throughput ratio ${ratio.toFixed(2)} (target >= 0.8); runner peak RSS ${(w.rssKiB / 1024).toFixed(0)} MiB vs ${(idle.rssKiB / 1024).toFixed(0)} MiB on a trivial task: +${growthMiB.toFixed(0)} MiB (target < 100)`,
  );
  console.log(
    `P5q through a running worker, read over HTTP from its live.log reference: ${rate(q.ms)}; ratio ${qRatio.toFixed(2)} (target >= 0.8); worker peak RSS +${q.growthMiB.toFixed(0)} MiB (target < 100)`,
  );
  console.log(
    `BENCH_JSON ${JSON.stringify({
      rows: [
        {
          id: 'P5',
          measure: `${MIB} MiB of task stdout through the live log vs raw from the engine (throughput)`,
          ratio: Number(ratio.toFixed(3)),
          target: 0.8,
          better: 'higher',
          met: ratio >= 0.8,
        },
        {
          id: 'P5 RSS',
          measure: `runner peak RSS growth for ${MIB} MiB of live log, MiB`,
          value: Number(growthMiB.toFixed(1)),
          target: 100,
          better: 'lower',
          met: growthMiB < 100,
        },
        {
          id: 'P5q',
          measure: `${MIB} MiB of stdout through a running worker's live log, one HTTP reader, vs raw from the engine`,
          ratio: Number(qRatio.toFixed(3)),
          target: 0.8,
          better: 'higher',
          met: qRatio >= 0.8,
          workerSeconds: Number((q.ms / 1000).toFixed(3)),
          baselineSeconds: Number((base.ms / 1000).toFixed(3)),
        },
        {
          id: 'P5q RSS',
          measure: `running worker's peak RSS growth for ${MIB} MiB of live log read over HTTP, MiB`,
          value: Number(q.growthMiB.toFixed(1)),
          target: 100,
          better: 'lower',
          met: q.growthMiB < 100,
        },
      ],
      mib: MIB,
      rawSeconds: Number((base.ms / 1000).toFixed(2)),
      workerSeconds: Number((w.ms / 1000).toFixed(2)),
    })}`,
  );
} catch (err) {
  console.error(`livelog bench: ${err instanceof Error ? err.stack : err}`);
  code = 1;
} finally {
  await tc?.close();
  await removeWorkerLeftovers([WORKER_ID, Q_WORKER_ID]);
  rmSync(tmp, { recursive: true, force: true });
}
process.exit(code);
