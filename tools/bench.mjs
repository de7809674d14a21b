#!/usr/bin/env node
// `npm run bench`: runs every benchmark script (packages/*/bench/*.bench.mjs, e2e/bench/*.bench.mjs)
// one after another. Each prints human-readable lines, ratios against a baseline it measures in
// the same run, and as its last line `BENCH_JSON {...}`. The figures are merged into
// .bench/results.json; the rows they report against the targets of issue #14 are printed as one
// table and drawn in docs/bench.svg (tools/bench-chart.mjs). Benchmarks are never part of `npm test`.
import { spawnSync } from 'node:child_process';
import { readdirSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { rowsOf, svg, table } from './bench-chart.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dirs = [
  ...readdirSync(join(root, 'packages')).map((p) => join(root, 'packages', p, 'bench')),
  join(root, 'e2e/bench'),
];
const only = process.argv.slice(2);
const scripts = dirs
  .filter((d) => existsSync(d))
  .flatMap((d) =>
    readdirSync(d)
      .filter((f) => f.endsWith('.bench.mjs'))
      .map((f) => join(d, f)),
  )
  .filter((s) => only.length === 0 || only.some((o) => s.includes(o)));
if (scripts.length === 0) {
  console.error('bench: no benchmark scripts found (packages/*/bench/*.bench.mjs)');
  process.exit(1);
}
/** /proc/stat's first line: busy (user … softirq) and steal ticks of the whole machine. */
function cpuTicks() {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  return { busy: f.slice(0, 7).reduce((a, b) => a + b, 0) - f[3] - f[4], steal: f[7] ?? 0 };
}
/**
 * The hypervisor's steal, as a share of the CPU time this machine wanted (busy + steal): on a
 * shared host it slows the CPU-bound sides (Node's start, the proxy) and the engine unevenly, so
 * each benchmark prints it beside its ratios, and a reader can tell a noisy run.
 */
const stealShare = (a, b) => {
  const busy = b.busy - a.busy;
  const steal = b.steal - a.steal;
  return busy + steal > 0 ? steal / (busy + steal) : 0;
};
const results = {};
const steal = {};
let failed = 0;
const started = cpuTicks();
const startedAt = performance.now();
const seconds = {};
for (const script of scripts) {
  const name = relative(root, script);
  console.log(`\n== ${name}`);
  const before = cpuTicks();
  const benchStarted = performance.now();
  const r = spawnSync(process.execPath, [script], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 64 << 20,
  });
  const lines = r.stdout.trimEnd().split('\n');
  const last = lines.at(-1) ?? '';
  for (const l of last.startsWith('BENCH_JSON ') ? lines.slice(0, -1) : lines) console.log(l);
  steal[name] = Number(stealShare(before, cpuTicks()).toFixed(3));
  seconds[name] = Math.round((performance.now() - benchStarted) / 1000);
  console.log(
    `(${seconds[name]} s; steal: ${(steal[name] * 100).toFixed(0)} % of the CPU time this machine wanted went to other guests)`,
  );
  if (r.status !== 0 || !last.startsWith('BENCH_JSON ')) {
    console.error(`bench: ${name} failed (exit ${r.status})`);
    failed += 1;
    continue;
  }
  results[name] = JSON.parse(last.slice('BENCH_JSON '.length));
}
const at = new Date().toISOString();
mkdirSync(join(root, '.bench'), { recursive: true });
const stealWhole = Number(stealShare(started, cpuTicks()).toFixed(3));
const wholeSeconds = Math.round((performance.now() - startedAt) / 1000);
writeFileSync(
  join(root, '.bench/results.json'),
  JSON.stringify(
    {
      at,
      seconds: wholeSeconds,
      secondsByBench: seconds,
      stealShare: stealWhole,
      stealShareByBench: steal,
      results,
    },
    null,
    2,
  ) + '\n',
);
console.log(
  `\nbench: ${scripts.length} benchmark(s) in ${Math.floor(wholeSeconds / 60)} min ${wholeSeconds % 60} s; figures written to .bench/results.json (steal over the whole run: ${(stealWhole * 100).toFixed(0)} %)`,
);
const rows = rowsOf(results);
if (rows.length > 0) {
  console.log(`\n${table(rows)}`);
  // Only a whole run redraws the chart the README shows (a partial one would drop rows).
  if (only.length === 0 && failed === 0) {
    writeFileSync(join(root, 'docs/bench.svg'), svg(rows, at, stealWhole));
    console.log('bench: chart written to docs/bench.svg');
  }
}
process.exit(failed ? 1 : 0);
