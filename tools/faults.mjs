#!/usr/bin/env node
// `npm run faults`: the fault table (issue #17). Runs e2e/src/faults/ with the big counts
// (FAULTS_SCALE=full), then prints one row per fault with what it measured and writes
// .faults/results.json. Extra arguments go to vitest (e.g. a file filter: `npm run faults -- r1`).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const results = join(root, '.faults', 'results.json');
const smallOnly = process.env.FAULTS_SCALE === 'small';
if (!process.argv.includes('--print')) {
  rmSync(results, { force: true });
  const filters = process.argv.slice(2).map((a) => `src/faults/${a}`);
  const r = spawnSync(
    'npx',
    ['vitest', 'run', '--project', 'e2e', ...(filters.length ? filters : ['src/faults/'])],
    {
      cwd: root,
      stdio: 'inherit',
      env: { ...process.env, FAULTS_SCALE: smallOnly ? 'small' : 'full' },
    },
  );
  if (r.status !== 0) process.exitCode = 1;
}
if (!existsSync(results)) {
  console.error(`no results: ${results} was not written (did the fault suite run?)`);
  process.exit(1);
}
const rows = Object.values(JSON.parse(readFileSync(results, 'utf8'))).sort(
  (a, b) => Number(a.id.slice(1)) - Number(b.id.slice(1)),
);
console.log('\n| id | fault | tried | held | measured |\n| --- | --- | --- | --- | --- |');
for (const r of rows) console.log(`| ${r.id} | ${r.fault} | ${r.tried} | ${r.held} | ${r.measured} |`);
const missing = Array.from({ length: 12 }, (_, i) => `R${i + 1}`).filter(
  (id) => !rows.some((r) => r.id === id),
);
if (missing.length) console.log(`\nnot measured: ${missing.join(', ')}`);
const broken = rows.filter((r) => r.held !== r.tried);
if (broken.length) console.log(`\ndid not hold: ${broken.map((r) => r.id).join(', ')}`);
console.log(`\n(scale: ${rows[0]?.scale ?? '?'}; ${results})`);
if (broken.length) process.exitCode = 1;
