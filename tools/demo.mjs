#!/usr/bin/env node
// `npm run demo` (after tools/setup.mjs): starts a fake Taskcluster on 0.0.0.0 with a demo client,
// runs examples/taskcluster-proxy.yml through `docker-worker run` (a task that asks the proxy at
// http://taskcluster for its scopes and keeps the answer as an artifact), prints its live log and
// where its artifacts went, then stops everything it started.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const tmp = mkdtempSync(join(tmpdir(), 'docker-worker-demo-'));
const client = { clientId: 'demo-client', accessToken: 'demo-access-token-not-a-secret-0123', scopes: ['*'] };
writeFileSync(join(tmp, 'clients.json'), JSON.stringify([client]));

const fake = spawn(
  process.execPath,
  [
    join(root, 'packages/fake-taskcluster/dist/cli.js'),
    '--host',
    '0.0.0.0',
    '--port',
    '0',
    '--clients-file',
    join(tmp, 'clients.json'),
  ],
  {
    stdio: ['ignore', 'pipe', 'inherit'],
  },
);
const stopFake = () => {
  if (fake.exitCode === null) fake.kill('SIGTERM');
};
process.on('exit', () => {
  stopFake();
  rmSync(tmp, { recursive: true, force: true });
});
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(130));

const rootUrl = await new Promise((resolveUrl, reject) => {
  createInterface({ input: fake.stdout }).once('line', resolveUrl);
  fake.once('exit', (code) => reject(new Error(`fake-taskcluster exited with ${code}`)));
});
console.log(
  `demo: fake Taskcluster at ${rootUrl} (listening on 0.0.0.0; the proxy reaches it via the task network's gateway)`,
);

const taskId = `demo${Date.now().toString(36)}`;
const artifactsDir = join(root, 'artifacts', taskId);
const example = 'examples/taskcluster-proxy.yml';
console.log(`demo: docker-worker run ${example} --task-id ${taskId}\n`);
const runner = spawn(
  process.execPath,
  [
    join(root, 'packages/runner/dist/cli.js'),
    'run',
    join(root, example),
    '--task-id',
    taskId,
    '--artifacts-dir',
    artifactsDir,
  ],
  {
    stdio: 'inherit',
    env: {
      ...process.env,
      TASKCLUSTER_ROOT_URL: rootUrl,
      TASKCLUSTER_CLIENT_ID: client.clientId,
      TASKCLUSTER_ACCESS_TOKEN: client.accessToken,
    },
  },
);
const code = await new Promise((r) => runner.once('exit', (c) => r(c ?? 1)));

const files = [];
const walk = (dir) => {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else files.push(p);
  }
};
try {
  walk(artifactsDir);
} catch {
  // no artifacts
}
console.log(`\ndemo: the task's artifacts are in ${relative(process.cwd(), artifactsDir) || artifactsDir}/`);
for (const f of files) console.log(`  ${relative(artifactsDir, f)}  (${statSync(f).size} bytes)`);
console.log(`demo: docker-worker exited with ${code} (0 completed, 1 failed, 2 exception)`);
stopFake();
process.exit(code);
