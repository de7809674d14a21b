#!/usr/bin/env node
// P2: a trivial task with features.taskclusterProxy through `docker-worker run`, against the same
// done by hand with the docker CLI: create a network, start the proxy image on it (alias
// taskcluster) and wait for its "listening" line, run the task on it, remove the proxy and the
// network. Alternating, BENCH_RUNS (default 5) each after one warm-up; medians. The proxy is
// never called (the task runs `true`), so the root URL is a placeholder on loopback.
// Run: node tools/bench.mjs proxy-task   (needs the runner built and the proxy image)
import { runArgs } from './cli-args.mjs';
import { spawnSync } from 'node:child_process';
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
  const w = median(a);
  const h = median(b);
  const ratio = w / h;
  console.log(`by hand (network, proxy until listening, task, removal)  median ${h.toFixed(0)} ms over ${N}`);
  console.log(`docker-worker run with features.taskclusterProxy       median ${w.toFixed(0)} ms over ${N}`);
  console.log(`ratio P2 worker / by hand: ${ratio.toFixed(2)}x (target <= 1.10)`);
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
      ],
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
  const f = ['--filter', `label=${LABEL}`];
  const list = (args) =>
    spawnSync('docker', [...args, ...f], { encoding: 'utf8' })
      .stdout.split('\n')
      .filter(Boolean);
  const cs = list(['ps', '-aq']);
  if (cs.length) spawnSync('docker', ['rm', '-f', '-v', ...cs], { stdio: 'ignore' });
  for (const n of list(['network', 'ls', '-q']))
    spawnSync('docker', ['network', 'rm', n], { stdio: 'ignore' });
  rmSync(tmp, { recursive: true, force: true });
}
process.exit(code);
