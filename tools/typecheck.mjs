#!/usr/bin/env node
// Type-checks every workspace with its tests: `tsc -p <workspace>/tsconfig.test.json --noEmit`
// (the build's tsconfig.json leaves tests out so that dist/ holds none). Two at a time, one line
// per workspace (`ok` or `N errors`), then the errors; exit status 1 on any error.
// Plain Node, no dependencies. `npm run lint` and `npm test` (tools/test.mjs) run it.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const tsc = join(root, 'node_modules/typescript/bin/tsc');
const PARALLEL = 2;

function workspaces() {
  return JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).workspaces;
}

function check(workspace) {
  const config = join(workspace, 'tsconfig.test.json');
  const started = Date.now();
  if (!existsSync(join(root, config))) {
    const error = `${config}: missing; add one that extends the package tsconfig and includes the tests`;
    return Promise.resolve({ workspace, errors: 1, output: error, seconds: 0 });
  }
  return new Promise((done) => {
    const child = spawn(process.execPath, [tsc, '-p', config, '--noEmit', '--pretty', 'false'], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('close', (code) => {
      const counted = (output.match(/error TS\d+/g) ?? []).length;
      const errors = code === 0 ? 0 : Math.max(counted, 1);
      done({ workspace, errors, output: output.trimEnd(), seconds: (Date.now() - started) / 1000 });
    });
  });
}

/**
 * Checks every workspace (or those whose folder name `select` accepts); prints one line each,
 * then the errors. Resolves to the results.
 */
export async function typecheck({ print = console.log, select = () => true } = {}) {
  const queue = workspaces().filter((w) => select(w.split('/').pop()));
  const results = [];
  const worker = async () => {
    for (let w = queue.shift(); w !== undefined; w = queue.shift()) {
      const r = await check(w);
      const what = r.errors === 0 ? 'ok' : `${r.errors} error${r.errors === 1 ? '' : 's'}`;
      print(`typecheck ${r.workspace}: ${what} (${r.seconds.toFixed(1)} s)`);
      results.push(r);
    }
  };
  await Promise.all(Array.from({ length: PARALLEL }, worker));
  for (const r of results) if (r.errors > 0) print(`\n${r.workspace}:\n${r.output}`);
  return results;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const results = await typecheck();
  process.exit(results.some((r) => r.errors > 0) ? 1 : 0);
}
