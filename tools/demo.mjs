#!/usr/bin/env node
// `npm run demo` (after tools/setup.mjs): starts a fake Taskcluster on 0.0.0.0 with a demo client,
// runs examples/taskcluster-proxy.yml through `docker-worker run` (a task that asks the proxy at
// http://taskcluster for its scopes and keeps the answer as an artifact), prints its live log and
// where its artifacts went; then the same task in queue mode: created in the fake's queue, claimed
// and run by `docker-worker start --once`, its artifacts read back through the queue. Then it stops
// everything it started.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const tmp = mkdtempSync(join(tmpdir(), 'docker-worker-demo-'));
const client = { clientId: 'demo-client', accessToken: 'demo-access-token-not-a-secret-0123', scopes: ['*'] };
const QUEUE = 'demo/queue';
const workerClient = {
  clientId: 'demo-worker',
  accessToken: 'demo-worker-token-not-a-secret-0123',
  scopes: [`queue:claim-work:${QUEUE}`, 'queue:worker-id:demo/*'],
};
writeFileSync(join(tmp, 'clients.json'), JSON.stringify([client, workerClient]));

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
const queueCode = code === 0 ? await queueMode() : code;
stopFake();
process.exit(queueCode);

/** The same task through the queue: createTask, `docker-worker start --once`, artifacts read back. */
async function queueMode() {
  const { default: taskcluster } = await import('taskcluster-client');
  const { parse } = await import('yaml');
  const { readFileSync } = await import('node:fs');
  const definition = parse(readFileSync(join(root, example), 'utf8'));
  const queue = new taskcluster.Queue({ rootUrl, credentials: client });
  const queueTaskId = taskcluster.slugid();
  const now = Date.now();
  await queue.createTask(queueTaskId, {
    taskQueueId: QUEUE,
    created: new Date(now).toJSON(),
    deadline: new Date(now + 3600_000).toJSON(),
    expires: new Date(now + 86_400_000).toJSON(),
    scopes: definition.scopes,
    payload: definition.payload,
    metadata: {
      name: 'demo',
      description: example,
      owner: 'demo@example.com',
      source: 'https://example.com/demo',
    },
  });
  const config = join(tmp, 'worker.json');
  writeFileSync(
    config,
    JSON.stringify({
      taskQueueId: QUEUE,
      workerGroup: 'demo',
      workerId: `demo-${process.pid}`,
      workDir: join(tmp, 'work'),
      liveLog: { port: 0, host: '127.0.0.1' },
      pollingIntervalMs: 500,
    }),
  );
  console.log(
    `\ndemo: queue mode — task ${queueTaskId} created in ${QUEUE}; docker-worker start --config worker.json --once`,
  );
  const worker = spawn(
    process.execPath,
    [join(root, 'packages/runner/dist/cli.js'), 'start', '--config', config, '--once'],
    {
      stdio: 'inherit',
      env: {
        ...process.env,
        TASKCLUSTER_ROOT_URL: rootUrl,
        TASKCLUSTER_CLIENT_ID: workerClient.clientId,
        TASKCLUSTER_ACCESS_TOKEN: workerClient.accessToken,
        LOG_LEVEL: process.env.LOG_LEVEL || 'info',
      },
    },
  );
  const exit = await new Promise((r) => worker.once('exit', (c) => r(c ?? 1)));
  const { status } = await queue.status(queueTaskId);
  console.log(`\ndemo: the queue says run 0 is ${status.runs[0]?.state}; its artifacts:`);
  for (const a of (await queue.listArtifacts(queueTaskId, '0')).artifacts) {
    console.log(
      `  ${a.name}  (${a.storageType})  ${queue.buildUrl(queue.getArtifact, queueTaskId, '0', a.name)}`,
    );
  }
  const res = await fetch(queue.buildUrl(queue.getArtifact, queueTaskId, '0', 'public/scopes.json'));
  console.log(`demo: public/scopes.json through the queue: ${(await res.text()).replace(/\s+/g, ' ')}`);
  console.log(`demo: docker-worker start exited with ${exit}`);
  return exit;
}
