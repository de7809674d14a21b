#!/usr/bin/env node
// Everything `npm test` and `npm run demo` need, on a fresh clone of a fresh machine:
//   npm ci (when node_modules is missing or older than package-lock.json), a Docker engine,
//   the base images, then `nx run-many -t build image`.
// Plain Node, no dependencies: it runs before `npm ci`.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureEngine } from './engine.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const say = (m) => console.log(`setup: ${m}`);

function step(cmd, args, what) {
  const r = spawnSync(cmd, args, {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true' },
  });
  if (r.status !== 0) {
    console.error(`setup: ${what} failed (exit ${r.status}); fix the error above and run again`);
    process.exit(r.status ?? 1);
  }
}

const lock = join(root, 'package-lock.json');
const marker = join(root, 'node_modules/.package-lock.json');
if (!existsSync(marker) || statSync(marker).mtimeMs < statSync(lock).mtimeMs) {
  say('installing dependencies (npm ci)');
  step('npm', ['ci', '--no-audit', '--no-fund'], 'npm ci');
}
await ensureEngine();
// The interactive e2e drives Debian's headless Chromium (playwright-core brings no browser).
if (!existsSync('/usr/bin/chromium')) {
  say('installing chromium (apt-get)');
  step('apt-get', ['install', '-y', '--no-install-recommends', 'chromium'], 'apt-get install chromium');
}
step(process.execPath, [join(root, 'images/base/ensure.mjs')], 'base images');
say('building packages and images (nx)');
step('npx', ['nx', 'run-many', '-t', 'build', 'image', '--parallel=1', '--outputStyle=stream'], 'build');
