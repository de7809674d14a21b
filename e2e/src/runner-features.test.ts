// Runner features end to end: encrypted env (good, bad, redaction) and the taskcluster proxy
// reaching a fake Taskcluster with exactly the task's scopes, through the built CLI; and the
// lifecycle through the library with the real engine and a FakeClock (maxRunTime without waiting).
import { encryptEnvVar, generateWorkerKeys } from '@docker-worker/encrypted-env';
import { buildConfig, createDockerClient, runLocalTask, toTaskDefinition } from '@docker-worker/runner';
import { FakeClock } from '@docker-worker/runner/testing';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newSession } from './docker.js';
import { RunnerSession, sweepStaleSessions } from './runner-harness.js';

const id = newSession();
let session: RunnerSession;
let publicKey: string;
let fake: ChildProcess | undefined;
const client = { clientId: `e2e-${id}`, accessToken: `e2e-access-token-${id}-0123456789`, scopes: ['*'] };

beforeAll(async () => {
  const keys = await generateWorkerKeys();
  publicKey = keys.publicKey;
  const probe = new RunnerSession(`e2e-feat-${id}`);
  const keyFile = join(probe.dir, 'worker-private.asc');
  writeFileSync(keyFile, keys.privateKey, { mode: 0o600 });
  session = new RunnerSession(`e2e-feat-${id}`, { keys: { encryptedEnvPrivateKey: keyFile } });
  await sweepStaleSessions('e2e-feat-', session.workerId);
});

afterAll(async () => {
  fake?.kill('SIGTERM');
  await session.removeAll();
  expect(await session.leftovers()).toEqual({ containers: 0, networks: 0 });
});

const node = (script: string) => ['node', '-e', script];

describe('encryptedEnv', () => {
  it('decrypts into the env and shows the value as [secret] in the live log', async () => {
    const taskId = `${session.workerId}-enc`;
    const now = Date.now();
    const value = `s3cr3t-${id}`;
    const encrypted = await encryptEnvVar({
      publicKey,
      taskId,
      name: 'SECRET_TOKEN',
      value,
      startTime: now - 60_000,
      endTime: now + 3_600_000,
    });
    const r = await session.run(
      {
        payload: {
          image: 'debian:bookworm-slim',
          maxRunTime: 60,
          env: { PLAIN: 'visible' },
          encryptedEnv: [encrypted],
          command: ['/bin/bash', '-c', 'echo "token=$SECRET_TOKEN plain=$PLAIN len=${#SECRET_TOKEN}"'],
        },
      },
      { taskId },
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`token=[secret] plain=visible len=${value.length}\n`);
    expect(r.stdout).not.toContain(value);
    expect(readFileSync(`${r.artifactsDir}/public/logs/live_backing.log`, 'utf8')).not.toContain(value);
    expect(r.stderr).not.toContain(value);
  });

  it('resolves malformed-payload with an incident id and no secret when a rule is broken', async () => {
    const now = Date.now();
    const value = `other-task-secret-${id}`;
    const encrypted = await encryptEnvVar({
      publicKey,
      taskId: 'someOtherTaskId0000000',
      name: 'SECRET_TOKEN',
      value,
      startTime: now - 60_000,
      endTime: now + 3_600_000,
    });
    const r = await session.run({
      payload: {
        image: 'debian:bookworm-slim',
        maxRunTime: 60,
        encryptedEnv: [encrypted],
        command: ['true'],
      },
    });
    expect(r.code).toBe(2);
    expect(r.result).toMatchObject({ state: 'exception', reasonResolved: 'malformed-payload' });
    expect(r.stdout).toMatch(
      /the taskId of the env payload does not match the taskId of the task; incidentId: [0-9a-f-]{36}/,
    );
    expect(r.stdout + r.stderr).not.toContain(value);
  });
});

describe('taskclusterProxy', () => {
  it('reaches a fake Taskcluster at http://taskcluster with exactly the task scopes', async () => {
    // The built CLI in its own process (listening on 0.0.0.0 so the proxy reaches it via the gateway).
    const clientsFile = join(session.dir, 'clients.json');
    writeFileSync(clientsFile, JSON.stringify([client]));
    const cli = fileURLToPath(new URL('../../packages/fake-taskcluster/dist/cli.js', import.meta.url));
    fake = spawn(process.execPath, [cli, '--host', '0.0.0.0', '--port', '0', '--clients-file', clientsFile], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const rootUrl = await new Promise<string>((resolve) =>
      createInterface({ input: fake!.stdout! }).once('line', resolve),
    );
    const scopes = ['auth:current-scopes', 'queue:get-artifact:private/e2e/*', 'secrets:get:e2e/one'];
    const script = `fetch(process.env.TASKCLUSTER_PROXY_URL + '/api/auth/v1/scopes/current').then(r => r.json()).then(b => { console.log('SCOPES ' + JSON.stringify(b)); })`;
    const r = await session.run(
      {
        scopes,
        payload: {
          image: 'node:20-bookworm-slim',
          maxRunTime: 120,
          features: { taskclusterProxy: true },
          command: node(script),
        },
      },
      {
        env: {
          TASKCLUSTER_ROOT_URL: rootUrl,
          TASKCLUSTER_CLIENT_ID: client.clientId,
          TASKCLUSTER_ACCESS_TOKEN: client.accessToken,
        },
      },
    );
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const line = r.stdout.split('\n').find((l) => l.startsWith('SCOPES '));
    const current = JSON.parse(line!.slice('SCOPES '.length)) as { scopes: string[] };
    // effective scopes = the task's scopes plus its own run's create-artifact (as the last docker-worker;
    // and the anonymous role every caller has), not the client's '*'
    const taskId = /^\[taskcluster [^\]]*\] Task ID: (\S+)/m.exec(r.stdout)?.[1] ?? '';
    expect([...current.scopes].filter((s) => s !== 'assume:anonymous').sort()).toEqual(
      [...scopes, `queue:create-artifact:${taskId}/0`].sort(),
    );
    expect(r.stdout).toMatch(/^\[taskcluster\] /m); // sidecar output is in the live log, prefixed
    expect(r.stdout).not.toContain(client.accessToken);
  });

  it("keeps a task away from another task's sidecar (by alias and by address)", async () => {
    const env = {
      TASKCLUSTER_ROOT_URL: 'http://127.0.0.1:9',
      TASKCLUSTER_CLIENT_ID: client.clientId,
      TASKCLUSTER_ACCESS_TOKEN: client.accessToken,
    };
    const a = session.start(
      {
        scopes: ['a'],
        payload: {
          image: 'node:20-bookworm-slim',
          maxRunTime: 120,
          features: { taskclusterProxy: true },
          command: ['sleep', '120'],
        },
      },
      { env },
    );
    try {
      await session.waitForTaskContainer(a.taskId);
      const { docker } = await import('./docker.js');
      const [sidecar] = await docker.listContainers({
        filters: JSON.stringify({
          label: [`org.docker-worker.task-id=${a.taskId}`, 'org.docker-worker.role=sidecar'],
        }),
      });
      const ip = Object.values(sidecar!.NetworkSettings.Networks)[0]!.IPAddress;
      // Neither the sidecar nor the task shows the access token to `docker inspect`.
      const [task] = await docker.listContainers({
        filters: JSON.stringify({
          label: [`org.docker-worker.task-id=${a.taskId}`, 'org.docker-worker.role=task'],
        }),
      });
      for (const c of [sidecar!, task!]) {
        const inspected = JSON.stringify(await docker.getContainer(c.Id).inspect());
        expect(inspected).not.toContain(client.accessToken);
      }
      const probe = `Promise.all(['http://taskcluster/__health', 'http://${ip}/__health'].map(u => fetch(u, { signal: AbortSignal.timeout(3000) }).then(r => u + ' ' + r.status, e => u + ' ' + (e.cause?.code ?? e.name)))).then(l => console.log('PROBE ' + l.join(' | ')))`;
      const b = await session.run({
        payload: { image: 'node:20-bookworm-slim', maxRunTime: 60, command: node(probe) },
      });
      const line = b.stdout.split('\n').find((l) => l.startsWith('PROBE '));
      expect(line).toMatch(/http:\/\/taskcluster\/__health (ENOTFOUND|EAI_AGAIN)/);
      expect(line).toMatch(
        new RegExp(
          `http://${ip.replace(/\./g, '\\.')}/__health (TimeoutError|ECONNREFUSED|EHOSTUNREACH|ENETUNREACH)`,
        ),
      );
    } finally {
      a.child.kill('SIGTERM');
      await a.done;
    }
    expect(await session.leftovers(a.taskId)).toEqual({ containers: 0, networks: 0 });
  });

  it('says which variables to set when credentials are missing, in one line, before running anything', async () => {
    const r = await session.run(
      {
        payload: {
          image: 'debian:bookworm-slim',
          maxRunTime: 60,
          features: { taskclusterProxy: true },
          command: ['true'],
        },
      },
      { env: { TASKCLUSTER_CLIENT_ID: '', TASKCLUSTER_ACCESS_TOKEN: '' } },
    );
    expect(r.code).toBe(64);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(
      /^docker-worker: \S+ asks for features.taskclusterProxy, .*: set TASKCLUSTER_ROOT_URL, TASKCLUSTER_CLIENT_ID and TASKCLUSTER_ACCESS_TOKEN .*\n$/,
    );
  });
});

describe('runLocalTask with the real engine and a FakeClock', () => {
  it('kills the container at maxRunTime without waiting for it', async () => {
    const clock = new FakeClock(Date.now());
    const docker = createDockerClient();
    const config = buildConfig({ workerId: session.workerId, workDir: join(session.dir, 'lib-work') });
    const task = toTaskDefinition(
      { payload: { image: 'debian:bookworm-slim', maxRunTime: 3600, command: ['sleep', '3600'] } },
      { taskId: `${session.workerId}-lib`, now: clock.now() },
    );
    const done = runLocalTask({
      task,
      config,
      docker,
      clock,
      log: pino({ level: 'silent' }),
      artifactsDir: join(session.dir, 'lib-artifacts'),
    });
    await session.waitForTaskContainer(task.taskId);
    await clock.advance(3600 * 1000);
    const result = await done;
    expect(result).toMatchObject({ state: 'failed', reasonResolved: 'failed' });
    const log = readFileSync(join(session.dir, 'lib-artifacts/public/logs/live_backing.log'), 'utf8');
    expect(log).toContain('Task timeout after 3600 seconds. Force killing container.');
    expect(await session.leftovers(task.taskId)).toEqual({ containers: 0, networks: 0 });
  });
});

describe('the task container is boxed in', () => {
  it('gets no-new-privileges and a pids limit (a fork bomb stops there)', async () => {
    const boxed = new RunnerSession(`${session.workerId}-box`, { taskContainer: { pidsLimit: 40 } });
    try {
      // The fork bomb runs in a subshell (dash exits when it cannot fork); the count is written and
      // read with shell builtins only, since nothing can fork once the limit is reached.
      const script = [
        'grep NoNewPrivs /proc/self/status',
        // a setuid-root copy of id, run as nobody: with no-new-privileges it stays nobody
        'cp /usr/bin/id /tmp/sid && chmod u+s /tmp/sid && echo "EUID $(setpriv --reuid=65534 --regid=65534 --clear-groups /tmp/sid -u)"',
        '(i=0; while [ $i -lt 100 ]; do sleep 30 & i=$((i+1)); echo $i > /tmp/n; done) 2>/dev/null',
        'read n < /tmp/n',
        'echo "STARTED $n"',
      ].join('; ');
      const r = await boxed.run({
        payload: {
          image: 'debian:bookworm-slim',
          maxRunTime: 60,
          command: ['/bin/sh', '-c', `${script}; exit 0`],
        },
      });
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/NoNewPrivs:\s+1\n/);
      expect(r.stdout).toContain('EUID 65534\n');
      // The control: without no-new-privileges the same setuid binary makes nobody root.
      const loose = new RunnerSession(`${session.workerId}-nnp`, {
        taskContainer: { noNewPrivileges: false },
      });
      const control = await loose.run({
        payload: {
          image: 'debian:bookworm-slim',
          maxRunTime: 60,
          command: [
            '/bin/sh',
            '-c',
            'cp /usr/bin/id /tmp/sid && chmod u+s /tmp/sid && echo "EUID $(setpriv --reuid=65534 --regid=65534 --clear-groups /tmp/sid -u)"',
          ],
        },
      });
      await loose.removeAll();
      expect(control.stdout).toContain('EUID 0\n');
      const procs = Number(/STARTED (\d+)/.exec(r.stdout)?.[1]);
      expect(procs).toBeGreaterThan(10);
      expect(procs).toBeLessThanOrEqual(40);
    } finally {
      await boxed.removeAll();
    }
  });

  it('with a memory limit, says in the live log when the kernel killed the task for memory', async () => {
    const limited = new RunnerSession(`${session.workerId}-mem`, {
      taskContainer: { memoryBytes: 64 * 1024 * 1024 },
    });
    try {
      const hog = 'const a = []; for (;;) a.push(Buffer.alloc(8 * 1024 * 1024, 1));';
      const r = await limited.run({
        payload: { image: 'node:20-bookworm-slim', maxRunTime: 60, command: node(hog) },
      });
      expect(r.code).toBe(1);
      expect(r.stdout).toContain(
        `[taskcluster:error] The kernel killed the task for using more than the ${64 * 1024 * 1024} bytes of memory this worker allows (worker config taskContainer.memoryBytes)`,
      );
    } finally {
      await limited.removeAll();
    }
  });

  it("cannot open a connection to this host's ports through the gateway (sidecars can)", async () => {
    const { createServer } = await import('node:net');
    const server = createServer((socket) => socket.end('hello from the host\n')).listen(0, '0.0.0.0');
    await new Promise((r) => server.once('listening', r));
    const { port } = server.address() as import('node:net').AddressInfo;
    const probe = `
      const l = require('fs').readFileSync('/proc/net/route', 'utf8').split('\\n').find((x) => x.split('\\t')[1] === '00000000');
      const h = l.split('\\t')[2];
      const gw = [3, 2, 1, 0].map((i) => parseInt(h.substr(i * 2, 2), 16)).join('.');
      const s = require('net').connect(${port}, gw);
      s.setTimeout(3000, () => { console.log('HOST timeout'); process.exit(0); });
      s.on('data', (d) => { console.log('HOST ' + JSON.stringify(String(d))); process.exit(0); });
      s.on('error', (e) => { console.log('HOST ' + e.code); process.exit(0); });`;
    const open = new RunnerSession(`${session.workerId}-open`, { taskContainer: { blockHostAccess: false } });
    try {
      const fenced = await session.run({
        payload: { image: 'node:20-bookworm-slim', maxRunTime: 60, command: node(probe) },
      });
      expect(fenced.stdout).toMatch(/^HOST (ECONNREFUSED|EHOSTUNREACH|timeout)$/m);
      // The control: with blockHostAccess false the same probe reaches the host.
      const reached = await open.run({
        payload: { image: 'node:20-bookworm-slim', maxRunTime: 60, command: node(probe) },
      });
      expect(reached.stdout).toContain('HOST "hello from the host\\n"');
      // Every rule the runs added is gone with them.
      const { execFileSync } = await import('node:child_process');
      expect(execFileSync('iptables', ['-S', 'INPUT'], { encoding: 'utf8' })).not.toContain(
        `docker-worker:tc-${session.workerId}`,
      );
    } finally {
      server.close();
      await open.removeAll();
    }
  });
});
