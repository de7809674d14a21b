#!/usr/bin/env node
// Overhead of `docker-worker run` on a trivial task, as a ratio of `docker run --rm` of the same
// image and command measured in the same run (alternating, N runs each, after one warm-up each).
// Run: node tools/bench.mjs run   (needs the runner built: npx nx build runner)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const cli = resolve(here, '../dist/cli.js');
const N = Number(process.env.BENCH_RUNS ?? 5);
const IMAGE = 'debian:bookworm-slim';
const tmp = mkdtempSync(join(tmpdir(), 'runner-bench-'));
const taskFile = join(tmp, 'task.json');
writeFileSync(taskFile, JSON.stringify({ payload: { image: IMAGE, command: ['true'], maxRunTime: 60 } }));
writeFileSync(
  join(tmp, 'worker.json'),
  JSON.stringify({ workerId: 'bench-runner', workDir: join(tmp, 'work') }),
);

function time(cmd, args) {
  const start = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return Number(process.hrtime.bigint() - start) / 1e6;
}
const runner = (i) =>
  time(process.execPath, [
    cli,
    'run',
    taskFile,
    '--task-id',
    `bench-${process.pid}-${i}`,
    '--config',
    join(tmp, 'worker.json'),
    '--artifacts-dir',
    join(tmp, `a${i}`),
  ]);
const baseline = () => time('docker', ['run', '--rm', IMAGE, 'true']);

try {
  runner('warm');
  baseline();
  const a = [];
  const b = [];
  for (let i = 0; i < N; i++) {
    b.push(baseline());
    a.push(runner(i));
  }
  const median = (xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
  const runnerMs = median(a);
  const dockerMs = median(b);
  const ratio = runnerMs / dockerMs;
  console.log(`docker run --rm ${IMAGE} true        median ${dockerMs.toFixed(0)} ms over ${N} runs`);
  console.log(`docker-worker run (same task)         median ${runnerMs.toFixed(0)} ms over ${N} runs`);
  console.log(
    `ratio docker-worker / docker run:     ${ratio.toFixed(2)}x  (+${(runnerMs - dockerMs).toFixed(0)} ms: node start-up, network, labels, sweep, live log, clean-up)`,
  );
  console.log(
    `BENCH_JSON ${JSON.stringify({ runs: N, dockerRunMedianMs: Math.round(dockerMs), dockerWorkerRunMedianMs: Math.round(runnerMs), ratio: Number(ratio.toFixed(3)) })}`,
  );
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
