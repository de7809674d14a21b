import { fork, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startFakeTaskcluster } from '@docker-worker/fake-taskcluster';
const WORKER = { clientId: 'bench', accessToken: 'bench-token-0123456789abcdef', scopes: ['auth:current-scopes', 'queue:*'] };
const SCOPES = ['auth:current-scopes', 'queue:get-task:x'];
const tc = await startFakeTaskcluster({ clients: [WORKER] });
const proc = spawn(process.execPath, [...(process.env.NODE_FLAGS ?? '').split(' ').filter(Boolean), fileURLToPath(new URL('../dist/cli.js', import.meta.url)), '--port', '0', '--ip-address', '127.0.0.1', '--root-url', tc.rootUrl, ...SCOPES], {
  env: { PATH: process.env.PATH, TASKCLUSTER_CLIENT_ID: WORKER.clientId, TASKCLUSTER_ACCESS_TOKEN: WORKER.accessToken }, stdio: ['ignore', 'pipe', 'inherit'] });
const port = await new Promise((resolve) => { let buf = ''; proc.stdout.on('data', (c) => { if (buf === null) return; buf += c; const l = buf.split('\n').find((x) => x.includes('"listening"')); if (l) { buf = null; resolve(JSON.parse(l).port); } }); });
const client = fork(fileURLToPath(new URL('./client.mjs', import.meta.url)), [], { env: { PATH: process.env.PATH, TASKCLUSTER_CLIENT_ID: WORKER.clientId, TASKCLUSTER_ACCESS_TOKEN: WORKER.accessToken, BENCH_CONCURRENCY: '8', BENCH_SCOPES_JSON: JSON.stringify({ authorizedScopes: SCOPES }) }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
const run = (n) => new Promise((r) => { client.once('message', r); client.send({ port, path: '/fake/v1/whoami', n, ms: 60000 }); });
await run(2000);
const t = performance.now();
const m = await run(Number(process.env.N ?? 12000));
console.log('rps', (m.done / ((performance.now() - t) / 1000)).toFixed(0));
proc.kill('SIGTERM');
await new Promise((r) => proc.once('exit', r));
client.kill(); await tc.close(); process.exit(0);
