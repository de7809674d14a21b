#!/usr/bin/env node
// `npm run faults`: the fault table (issue #17). Runs e2e/src/faults/ with the big counts
// (FAULTS_SCALE=full), then prints one row per fault with what it measured and writes
// .faults/results.json. Extra arguments are file filters (`npm run faults -- r11 r12`): only those
// rows are run again, the others are kept. `--print` prints the table without running anything.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const results = join(root, '.faults', 'results.json');
const smallOnly = process.env.FAULTS_SCALE === 'small';
if (!process.argv.includes('--print')) {
  const filters = process.argv.slice(2).map((a) => `src/faults/${a}`);
  // A whole run starts a new table; a filtered one replaces only its rows (merged by id).
  if (!filters.length) rmSync(results, { force: true });
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
console.log('\n| id | fault | tried | held | measured | scale |\n| --- | --- | --- | --- | --- | --- |');
for (const r of rows)
  console.log(`| ${r.id} | ${r.fault} | ${r.tried} | ${r.held} | ${r.measured} | ${r.scale} |`);
const missing = Array.from({ length: 12 }, (_, i) => `R${i + 1}`).filter(
  (id) => !rows.some((r) => r.id === id),
);
if (missing.length) console.log(`\nnot measured: ${missing.join(', ')}`);
const broken = rows.filter((r) => r.held !== r.tried);
if (broken.length) console.log(`\ndid not hold: ${broken.map((r) => r.id).join(', ')}`);
console.log(`\n(${results})`);
if (broken.length) process.exitCode = 1;
