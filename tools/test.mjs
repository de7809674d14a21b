#!/usr/bin/env node
// Runs every vitest project (each package's unit tests and e2e/) in one run and ends with
// one line `N passed, M failed` summed over all suites, so a run that executed nothing shows.
// Extra arguments go to vitest, e.g. `node tools/test.mjs --project runner`.
// `--unit` runs every project except e2e.
// First it type-checks every workspace with its tests (tools/typecheck.mjs); each workspace that
// fails the typecheck counts as one failed test in that line.
import { spawnSync } from 'node:child_process';
import { readFileSync, mkdirSync, mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { typecheck } from './typecheck.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
let args = process.argv.slice(2);
if (args.includes('--unit')) {
  args = args.filter((a) => a !== '--unit');
  args.push('--project', '!e2e');
}
// The workspaces whose vitest projects run (`--project a`, `--project !b`), by folder name.
const projects = args.flatMap((a, i) => (args[i - 1] === '--project' ? [a] : []));
const wanted = projects.filter((p) => !p.startsWith('!'));
const select = (name) => !projects.includes(`!${name}`) && (wanted.length === 0 || wanted.includes(name));
const typeFailures = (await typecheck({ select })).filter((t) => t.errors > 0);
const out = mkdtempSync(join(tmpdir(), 'dw-test-'));
const report = join(out, 'report.json');
// Every temporary directory the tests make (os.tmpdir()) lives under this run's own one, removed
// at the end with the report: a test that forgot its own left it in /tmp for good (thousands a day).
const tmp = join(out, 'tmp');
mkdirSync(tmp);
const r = spawnSync(
  'npx',
  ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...args],
  { cwd: root, stdio: 'inherit', env: { ...process.env, TMPDIR: tmp } },
);
let passed = 0;
let failed = 0;
let skipped = 0;
if (existsSync(report)) {
  const j = JSON.parse(readFileSync(report, 'utf8'));
  passed = j.numPassedTests ?? 0;
  failed = j.numFailedTests ?? 0;
  skipped = (j.numPendingTests ?? 0) + (j.numTodoTests ?? 0);
  // A file that failed to load has no tests: count it as a failure so it cannot hide.
  for (const f of j.testResults ?? []) {
    if (f.status === 'failed' && (f.assertionResults ?? []).length === 0) failed += 1;
  }
} else {
  failed += 1;
}
try {
  rmSync(out, { recursive: true, force: true });
} catch (err) {
  console.log(`could not remove ${out}: ${err.message}`);
}
for (const t of typeFailures) {
  console.log(`typecheck ${t.workspace}: ${t.errors} type errors (counted as 1 failed; see above)`);
}
failed += typeFailures.length;
const status = r.status !== 0 || failed > 0 ? 1 : 0;
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(status === 0 && passed === 0 ? 1 : status);
