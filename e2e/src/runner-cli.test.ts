// `docker-worker run` through the built CLI against the real engine: env, malformed payloads,
// exit statuses, maxRunTime, artifacts, caches, image pull failure and clean-up (also after a
// SIGTERM and after a SIGKILLed worker).
import { readFileSync, statSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newSession } from './docker.js';
import { RunnerSession, sweepStaleSessions } from './runner-harness.js';

// Pull retries short (the defaults wait 15 s, 30 s, ... as the last docker-worker).
const session = new RunnerSession(`e2e-cli-${newSession()}`, {
  dockerConfig: { maxAttempts: 2, delayFactorMs: 50 },
});
const IMAGE = 'debian:bookworm-slim';
const bash = (script: string) => ['/bin/bash', '-c', script];
const task = (payload: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  payload: { image: IMAGE, maxRunTime: 60, ...payload },
  ...extra,
});

beforeAll(() => sweepStaleSessions('e2e-cli-', session.workerId));

afterAll(async () => {
  await session.removeAll();
  expect(await session.leftovers()).toEqual({ containers: 0, networks: 0 });
});

describe('docker-worker run', () => {
  it('runs a task with its env (reserved variables override the payload), without the Docker socket nor privileges; nothing is left', async () => {
    // (Privileged containers cannot start on this machine's engine, so the allowed case is a unit test.)
    const probe =
      'test -e /var/run/docker.sock && echo SOCKET; mkdir -p /m && mount -t tmpfs none /m 2>/dev/null && echo MOUNTED; echo probed';
    const command = bash(`echo "$GREETING $TASK_ID $RUN_ID"; ${probe}; printf "last line without a newline"`);
    const r = await session.run(task({ env: { TASK_ID: 'spoofed', GREETING: 'hi' }, command }), {
      taskId: `${session.workerId}-env`,
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('probed\n');
    expect(r.stdout).not.toContain('SOCKET');
    expect(r.stdout).not.toContain('MOUNTED');
    expect(r.stdout).toContain(`hi ${session.workerId}-env 0\n`);
    expect(r.stdout).toContain('last line without a newline\n'); // attached, not followed: the last partial line is kept
    expect(r.stdout).toMatch(/\[taskcluster .*Z\] Task ID: /);
    expect(r.stdout).toMatch(/Image: debian:bookworm-slim \(sha256:[0-9a-f]{64}\)/);
    expect(r.stdout).toMatch(/Successful task run with exit code: 0 completed in [\d.]+ seconds/);
    expect(r.result).toMatchObject({
      taskId: `${session.workerId}-env`,
      runId: 0,
      state: 'completed',
      reasonResolved: 'completed',
      exitCode: 0,
    });
    expect(readFileSync(`${r.artifactsDir}/public/logs/live_backing.log`, 'utf8')).toContain(
      `hi ${session.workerId}-env 0\n`,
    );
    expect(await session.leftovers(`${session.workerId}-env`)).toEqual({ containers: 0, networks: 0 });
  });

  it('runs the YAML example with env and artifacts', async () => {
    const { fileURLToPath } = await import('node:url');
    const r = await session.run(
      fileURLToPath(new URL('../../examples/env-and-artifacts.yml', import.meta.url)),
      { taskId: `${session.workerId}-yaml` },
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`hello from task ${session.workerId}-yaml, run 0\n`);
    const names = r.result.artifacts.map((a) => a.name).sort();
    expect(names).toEqual([
      'public/greeting.txt',
      'public/logs/live_backing.log',
      'public/reports/summary.json',
      'public/reports/when.txt',
    ]);
    expect(readFileSync(`${r.artifactsDir}/public/reports/summary.json`, 'utf8')).toBe('{"ok": true}\n');
  });

  it('maps a non-zero exit to failed (1) and an onExitStatus.retry status to intermittent-task (2)', async () => {
    const [failed, retry] = await Promise.all([
      session.run(task({ command: bash('exit 7') })),
      session.run(task({ command: bash('exit 75'), onExitStatus: { retry: [75] } })),
    ]);
    expect(failed.code).toBe(1);
    expect(failed.result).toMatchObject({ state: 'failed', reasonResolved: 'failed', exitCode: 7 });
    expect(failed.stdout).toContain('Unsuccessful task run with exit code: 7');
    expect(retry.code).toBe(2);
    expect(retry.result).toMatchObject({
      state: 'exception',
      reasonResolved: 'intermittent-task',
      exitCode: 75,
    });
    expect(await session.leftovers()).toEqual({ containers: 0, networks: 0 });
  });

  it('lists every schema error with its path in one block (malformed-payload)', async () => {
    const r = await session.run({
      payload: { image: 5, command: 'ls', maxRunTime: 0, features: { bogus: true, dind: true } },
    });
    expect(r.code).toBe(2);
    expect(r.result).toMatchObject({
      state: 'exception',
      reasonResolved: 'malformed-payload',
      exitCode: null,
    });
    const block = r.stdout.slice(r.stdout.indexOf('[taskcluster:error]'));
    for (const line of [
      '/image: must be an image name',
      '/command: must be array',
      '/maxRunTime: must be >= 1',
      '/features/bogus: "bogus" is not part of valid features',
      '/features/dind: the feature "dind" is not supported',
    ]) {
      expect(block).toContain(line);
    }
  });

  it.concurrent.for([
    [
      'a cache without its scope',
      task({ cache: { 'level-3-x': '/c' } }),
      'Try adding docker-worker:cache:level-3-x',
    ],
    [
      'privileged on a worker that does not allow it',
      task({ capabilities: { privileged: true } }, { scopes: ['docker-worker:capability:privileged'] }),
      'capabilities.privileged is not allowed on this worker',
    ],
    [
      'privileged without the scope',
      task({ capabilities: { privileged: true } }),
      'Try adding docker-worker:capability:privileged',
    ],
    [
      'an indexed image without index:find-task',
      task({ image: { type: 'indexed-image', namespace: 'a.b', path: 'public/image.tar' } }),
      'index:find-task:a.b',
    ],
    [
      'encryptedEnv on a worker without a key',
      task({ encryptedEnv: ['aGVsbG8='] }),
      'keys.encryptedEnvPrivateKey',
    ],
  ] as const)('resolves malformed-payload for %s', async ([, t, message]) => {
    const r = await session.run(t);
    expect(r.code).toBe(2);
    expect(r.result).toMatchObject({ state: 'exception', reasonResolved: 'malformed-payload' });
    expect(r.stdout).toContain(message);
  });

  it('kills the task at maxRunTime and resolves failed', async () => {
    const r = await session.run(task({ command: bash('echo started; sleep 120'), maxRunTime: 2 }));
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('started\n');
    expect(r.stdout).toContain('[taskcluster:error] Task timeout after 2 seconds. Force killing container.');
    expect(r.result).toMatchObject({ state: 'failed', reasonResolved: 'failed' });
    expect(await session.leftovers()).toEqual({ containers: 0, networks: 0 });
  });

  it('copies file, directory, symlinked and 50 MiB artifacts; records missing and wrong-typed ones', async () => {
    const script = [
      'mkdir -p /out/dir/nested/deeper',
      'echo file > /out/file.txt',
      'echo "{}" > /out/dir/a.json; echo deep > /out/dir/nested/deeper/b.txt',
      'ln -s /out/file.txt /out/link',
      'head -c 52428800 /dev/urandom > /out/big.bin; sha256sum /out/big.bin | cut -c1-64',
    ].join('; ');
    const r = await session.run(
      task(
        {
          command: bash(script),
          artifacts: {
            'public/file.txt': { type: 'file', path: '/out/file.txt' },
            'public/dir': { type: 'directory', path: '/out/dir' },
            'public/link.txt': { type: 'file', path: '/out/link' },
            'public/big.bin': { type: 'file', path: '/out/big.bin', expires: '2030-01-01T00:00:00.000Z' },
            'public/missing.txt': { type: 'file', path: '/out/nothing-here' },
            'public/wrong': { type: 'file', path: '/out/dir' },
          },
        },
        { expires: '2031-01-01T00:00:00.000Z' },
      ),
    );
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const byName = Object.fromEntries(r.result.artifacts.map((a) => [a.name, a]));
    expect(readFileSync(byName['public/file.txt']!.path, 'utf8')).toBe('file\n');
    expect(byName['public/file.txt']!.contentType).toBe('text/plain');
    expect(readFileSync(byName['public/link.txt']!.path, 'utf8')).toBe('file\n');
    expect(byName['public/dir/a.json']!.contentType).toBe('application/json');
    expect(readFileSync(byName['public/dir/nested/deeper/b.txt']!.path, 'utf8')).toBe('deep\n');
    expect(statSync(byName['public/big.bin']!.path).size).toBe(52428800);
    expect(byName['public/big.bin']!.expires).toBe('2030-01-01T00:00:00.000Z');
    expect(byName['public/file.txt']!.expires).toBe('2031-01-01T00:00:00.000Z');
    const { createHash } = await import('node:crypto');
    const sha = createHash('sha256').update(readFileSync(byName['public/big.bin']!.path)).digest('hex');
    expect(r.stdout).toContain(`${sha}\n`);
    expect(r.stdout).toContain('Artifact "public/missing.txt" not found at "/out/nothing-here"');
    expect(r.result.artifactErrors).toEqual([
      {
        name: 'public/missing.txt',
        reason: 'file-missing-on-worker',
        message: 'Artifact "public/missing.txt" not found at "/out/nothing-here"',
        expires: '2031-01-01T00:00:00.000Z',
      },
      expect.objectContaining({ name: 'public/wrong', reason: 'invalid-resource-on-worker' }),
    ]);
  });

  it('keeps caches across runs and purges them after an onExitStatus.purgeCaches exit', async () => {
    const scopes = ['docker-worker:cache:e2e-*'];
    const cache = { 'e2e-data': '/cache' };
    const volume = `${session.workerId}-cache-e2e-data`;
    const first = await session.run(task({ cache, command: bash('echo kept > /cache/value') }, { scopes }));
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('using cache "e2e-data" -> /cache');
    expect(await session.volumeExists(volume)).toBe(true);
    const second = await session.run(
      task(
        { cache, command: bash('cat /cache/value; exit 5'), onExitStatus: { purgeCaches: [5] } },
        { scopes },
      ),
    );
    expect(second.code).toBe(1);
    expect(second.stdout).toContain('kept\n');
    expect(second.stdout).toContain('Purging caches');
    expect(await session.volumeExists(volume)).toBe(false);
  });

  it('retries a pull the registry does not answer, then resolves resource-unavailable with the engine reason', async () => {
    const image = '127.0.0.1:9/docker-worker-e2e/never:1';
    const r = await session.run(task({ image }));
    expect(r.code).toBe(2);
    expect(r.result).toMatchObject({ state: 'exception', reasonResolved: 'resource-unavailable' });
    expect(r.stdout).toContain(`Pulling docker image ${image} failed (attempt 1)`);
    expect(r.stdout).toContain(`Pulling docker image ${image} has failed after 2 attempts: `);
    expect(r.stdout).toMatch(/connection refused/);
  });

  it('rejects bad usage with exit 64 and one line', async () => {
    const { execFile } = await import('node:child_process');
    const { fileURLToPath } = await import('node:url');
    const { CLI } = await import('./runner-harness.js');
    const env = Object.fromEntries(
      Object.entries(process.env).filter(([k]) => !k.startsWith('TASKCLUSTER_')),
    );
    const cli = (...args: string[]) =>
      new Promise<{ status: number | null; stderr: string; stdout: string }>((resolve) => {
        const child = execFile(process.execPath, [CLI, ...args], { env }, (_err, stdout, stderr) =>
          resolve({ status: child.exitCode, stderr, stdout }),
        );
      });
    const workerConfig = fileURLToPath(new URL('../../examples/worker-local.yml', import.meta.url));
    const [missing, badDir, badFlag, start, startNoCredentials, version] = await Promise.all([
      cli('run', '/nonexistent/task.yml'),
      cli(
        'run',
        fileURLToPath(new URL('../../examples/hello-world.yml', import.meta.url)),
        '--artifacts-dir',
        '/proc/docker-worker-e2e',
      ),
      cli('run', '/dev/null', '--run-id', 'x'),
      cli('start'),
      cli('start', '--config', workerConfig),
      cli('--version'),
    ]);
    expect(missing.status).toBe(64);
    expect(missing.stderr.trim().split('\n')).toEqual([
      'docker-worker: cannot read task file /nonexistent/task.yml: no such file or directory (ENOENT); give the path of a YAML or JSON task file (see examples/)',
    ]);
    expect(badDir.status).toBe(64);
    expect(badDir.stderr).toMatch(
      /^docker-worker: cannot use \/proc\/docker-worker-e2e as the artifacts directory: .*; choose another --artifacts-dir\n$/,
    );
    expect(badFlag.status).toBe(64);
    expect(badFlag.stderr).toMatch(
      /^docker-worker: option .*--run-id.* must be an integer from 0 to 49; see docker-worker --help\n$/,
    );
    expect(start.status).toBe(64);
    expect(start.stderr).toBe(
      "docker-worker: required option '--config <FILE>' not specified; see docker-worker --help\n",
    );
    expect(startNoCredentials.status).toBe(64);
    expect(startNoCredentials.stderr).toBe(
      'docker-worker: queue mode needs a root URL: set TASKCLUSTER_ROOT_URL or rootUrl in the config\n',
    );
    expect(version).toMatchObject({ status: 0, stdout: '0.1.0\n' });
  });

  it('resolves worker-shutdown on SIGTERM and cleans up', async () => {
    const { child, done, taskId } = session.start(task({ command: bash('sleep 120') }));
    await session.waitForTaskContainer(taskId);
    child.kill('SIGTERM');
    const r = await done;
    expect(r.code).toBe(2);
    expect(r.result).toMatchObject({ state: 'exception', reasonResolved: 'worker-shutdown' });
    expect(r.stdout).toContain('Task has been aborted prematurely. Reason: worker-shutdown');
    expect(await session.leftovers(taskId)).toEqual({ containers: 0, networks: 0 });
  });

  it('sweeps what a SIGKILLed worker left when the next run starts', async () => {
    const { child, done, taskId } = session.start(task({ command: bash('sleep 300') }));
    await session.waitForTaskContainer(taskId);
    child.kill('SIGKILL');
    await done;
    // A task without a sidecar runs on the worker's shared network: only its container is left.
    expect(await session.leftovers(taskId)).toEqual({ containers: 1, networks: 0 });
    const next = await session.run(task({ command: bash('true') }));
    expect(next.code).toBe(0);
    expect(await session.leftovers(taskId)).toEqual({ containers: 0, networks: 0 });
  });
});
