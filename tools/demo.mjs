#!/usr/bin/env node
// `npm run demo` (after tools/setup.mjs): until the runner lands, run a built image for real.
import { spawnSync } from 'node:child_process';
const r = spawnSync('docker', ['run', '--rm', 'node:20-bookworm-slim', 'node', '-e', 'console.log("hello from a container, node " + process.version)'], { stdio: 'inherit' });
process.exit(r.status ?? 1);
