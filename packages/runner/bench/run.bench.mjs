#!/usr/bin/env node
// Overhead of `docker-worker run` on a trivial task, as a ratio of `docker run --rm` of the same
// image and command measured in the same run (alternating, N runs each, after one warm-up each).
// Run: node tools/bench.mjs run   (needs the runner built: npx nx build runner)
import { runArgs } from './cli-args.mjs';
import { removeWorkerLeftovers } from './worker-leftovers.mjs';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const cli = resolve(here, '../dist/cli.js');
// 11 alternating runs each: a median of 5 moved by ±4 % between runs of the same build on this machine.
const N = Number(process.env.BENCH_RUNS ?? 11);
const IMAGE = 'debian:bookworm-slim';
const tmp = mkdtempSync(join(tmpdir(), 'runner-bench-'));
const taskFile = join(tmp, 'task.json');
writeFileSync(taskFile, JSON.stringify({ payload: { image: IMAGE, command: ['true'], maxRunTime: 60 } }));
writeFileSync(
  join(tmp, 'worker.json'),
  JSON.stringify({ workerId: 'bench-runner', workDir: join(tmp, 'work') }),
);

/** Per-stage times of each runner run, from its operator log at debug (`msg: task stages`). */
const stageRuns = [];
function time(cmd, args, env) {
  const start = process.hrtime.bigint();
  const r = spawnSync(cmd, args, {
    stdio: ['ignore', 'ignore', 'pipe'],
    encoding: 'utf8',
    ...(env ? { env: { ...process.env, ...env } } : {}),
  });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  if (env) {
    const line = r.stderr.split('\n').find((l) => l.includes('"task stages"'));
    if (line) {
      const { stages, totalMs } = JSON.parse(line);
      stageRuns.push({ ...stages, in_task_run: totalMs, wall: ms });
    }
  }
  return ms;
}
const runner = (i) => time(process.execPath, runArgs(cli, taskFile, tmp, i), { LOG_LEVEL: 'debug' });
const baseline = () => time('docker', ['run', '--rm', IMAGE, 'true']);
// The engine's floor for an isolated task: the same `docker run --rm`, on a user-defined bridge
// with inter-container traffic off (what the worker's shared task network is). The worker cannot
// do with less: the default bridge lets containers reach each other.
const FLOOR_NET = 'docker-worker-bench-floor';
const floor = () => time('docker', ['run', '--rm', '--network', FLOOR_NET, IMAGE, 'true']);
spawnSync('docker', ['network', 'rm', FLOOR_NET], { stdio: 'ignore' });
time('docker', [
  'network',
  'create',
  '--label',
  'docker-worker.bench=run',
  '-o',
  'com.docker.network.bridge.enable_icc=false',
  FLOOR_NET,
]);

try {
  runner('warm');
  baseline();
  floor();
  const a = [];
  const b = [];
  const f = [];
  for (let i = 0; i < N; i++) {
    b.push(baseline());
    f.push(floor());
    a.push(runner(i));
  }
  const median = (xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
  stageRuns.shift(); // the warm-up
  const stages = {};
  for (const key of new Set(stageRuns.flatMap((r) => Object.keys(r))))
    stages[key] = Math.round(median(stageRuns.map((r) => r[key] ?? 0)));
  console.log('breakdown of docker-worker run (median ms per stage, operator log at debug):');
  for (const [k, v] of Object.entries(stages)) console.log(`  ${k.padEnd(18)}${String(v).padStart(6)}`);
  const nodeMs = median(Array.from({ length: N }, () => time(process.execPath, ['-e', ''])));
  console.log(`  (node -e '' alone: ${nodeMs.toFixed(0)} ms of load_modules is node's own start-up)`);
  const runnerMs = median(a);
  const dockerMs = median(b);
  const ratio = runnerMs / dockerMs;
  const floorMs = median(f);
  // What docker-worker adds beyond the engine's isolated run and Node's own start.
  const overFloor = runnerMs / (floorMs + nodeMs);
  console.log(`docker run --rm ${IMAGE} true        median ${dockerMs.toFixed(0)} ms over ${N} runs`);
  console.log(`docker-worker run (same task)         median ${runnerMs.toFixed(0)} ms over ${N} runs`);
  console.log(
    `ratio docker-worker / docker run:     ${ratio.toFixed(2)}x  (+${(runnerMs - dockerMs).toFixed(0)} ms)`,
  );
  console.log(
    `floor: docker run --rm on an icc=false user bridge: median ${floorMs.toFixed(0)} ms (${(floorMs / dockerMs).toFixed(2)}x docker run); ` +
      `floor + node start ${(floorMs + nodeMs).toFixed(0)} ms = ${((floorMs + nodeMs) / dockerMs).toFixed(2)}x; docker-worker over that floor: ${overFloor.toFixed(2)}x (+${(runnerMs - floorMs - nodeMs).toFixed(0)} ms)`,
  );
  console.log(
    `BENCH_JSON ${JSON.stringify({ runs: N, dockerRunMedianMs: Math.round(dockerMs), dockerWorkerRunMedianMs: Math.round(runnerMs), ratio: Number(ratio.toFixed(3)), rows: [{ id: 'P1', measure: 'trivial task via docker-worker run (CLI, cold process) vs docker run --rm', ratio: Number(ratio.toFixed(3)), target: 1.5, better: 'lower', met: ratio <= 1.5 }], nodeStartMs: Math.round(nodeMs), isolatedDockerRunMedianMs: Math.round(floorMs), floorRatio: Number(((floorMs + nodeMs) / dockerMs).toFixed(3)), overFloorRatio: Number(overFloor.toFixed(3)), stagesMedianMs: stages })}`,
  );
} finally {
  // The worker's shared task network (and its host firewall rules) outlive the runs: remove them.
  spawnSync('docker', ['network', 'rm', FLOOR_NET], { stdio: 'ignore' });
  await removeWorkerLeftovers(['bench-runner']);
  rmSync(tmp, { recursive: true, force: true });
}
