#!/usr/bin/env node
// P5: BENCH_LOG_MIB (default 1024) MiB of task stdout (100-byte lines) through `docker-worker run`
// (live log file, secret redaction, stdout as the reader following it) against the same container
// output read raw from the engine by `docker run` (to /dev/null), once each after a small warm-up.
// RSS growth: the runner's peak RSS (GNU time %M) minus its peak on a trivial task. The runner's
// stage times (its debug log) show where its time goes: step_script is the container streaming,
// upload_log storing the closed log in the artifacts directory (a rename, its digest taken while written).
// Run: node tools/bench.mjs livelog   (needs the runner built)
import { runArgs } from './cli-args.mjs';
import { removeWorkerLeftovers } from './worker-leftovers.mjs';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const cli = resolve(here, '../dist/cli.js');
const MIB = Number(process.env.BENCH_LOG_MIB ?? 1024);
const IMAGE = 'debian:bookworm-slim';
const WORKER_ID = `bench-livelog-${process.pid}`;
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

let code = 0;
try {
  const idle = worker(1, 'small');
  raw(1);
  const base = raw(MIB);
  const w = worker(MIB, 'big');
  const ratio = base.ms / w.ms; // throughput ratio
  const growthMiB = (w.rssKiB - idle.rssKiB) / 1024;
  console.log(
    `docker run (raw engine output to /dev/null): ${MIB} MiB in ${(base.ms / 1000).toFixed(1)} s = ${(MIB / (base.ms / 1000)).toFixed(0)} MiB/s`,
  );
  console.log(
    `docker-worker run (live log file + redaction + stdout): ${(w.ms / 1000).toFixed(1)} s = ${(MIB / (w.ms / 1000)).toFixed(0)} MiB/s (${stages(w.stderr)})`,
  );
  console.log(
    `P5 throughput ratio ${ratio.toFixed(2)} (target >= 0.8); runner peak RSS ${(w.rssKiB / 1024).toFixed(0)} MiB vs ${(idle.rssKiB / 1024).toFixed(0)} MiB on a trivial task: +${growthMiB.toFixed(0)} MiB (target < 100)`,
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
  await removeWorkerLeftovers([WORKER_ID]);
  rmSync(tmp, { recursive: true, force: true });
}
process.exit(code);
