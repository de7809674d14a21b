import { describe, expect, it } from 'vitest';
import { fakeRun, startFeature } from '../testing/fake-run.js';
import { cache, cacheVolumeName } from './caches.js';
import { capabilities } from './capabilities.js';
import { env } from './env.js';
import { backingLogName } from './live-log.js';
import { taskclusterProxy } from './taskcluster-proxy.js';
import { FakeDocker } from '../testing/fake-docker.js';

describe('env', () => {
  it('gives the task its env and reserved variables that win', async () => {
    const { run } = fakeRun({
      payload: { env: { TASK_ID: 'spoofed', A: '1' } },
      rootUrl: 'http://tc.example',
    });
    const c = (await startFeature(env, run)).contribution;
    expect(c).toMatchObject({
      taskEnv: { TASK_ID: 'spoofed', A: '1' },
      reservedEnv: {
        TASK_ID: run.task.taskId,
        RUN_ID: '0',
        TASKCLUSTER_ROOT_URL: 'http://tc.example',
        TASKCLUSTER_WORKER_ID: 'test-worker',
      },
    });
  });
});

describe('caches', () => {
  it('uses the cache name as it is (never rewritten)', () => {
    expect(cacheVolumeName('p-', 'level-1-x')).toBe('p-level-1-x');
  });
  it('requires a scope per cache, plain or with the worker pool id', async () => {
    const { run } = fakeRun({
      payload: { cache: { a: '/a', b: '/b' } },
      scopes: ['docker-worker:cache:a:docker-worker/local'],
    });
    await expect(cache.start(run)).rejects.toThrow(
      "Insufficient scopes to use 'cache'. Try adding docker-worker:cache:b (or docker-worker:cache:b:docker-worker/local) to the .scopes array of the task.",
    );
  });
});

describe('capabilities', () => {
  it('needs the scope and the worker config for privileged', async () => {
    const noScope = fakeRun({ payload: { capabilities: { privileged: true } } });
    await expect(capabilities.start(noScope.run)).rejects.toThrow(
      /Try adding docker-worker:capability:privileged \(or docker-worker:capability:privileged:docker-worker\/local\)/,
    );
    const scopes = ['docker-worker:capability:privileged:docker-worker/local'];
    const { run } = fakeRun({ payload: { capabilities: { privileged: true } }, scopes });
    await expect(capabilities.start(run)).rejects.toThrow(/not allowed on this worker/);
    const allowed = fakeRun({
      payload: { capabilities: { privileged: true } },
      scopes,
      config: { dockerConfig: { allowPrivileged: true } },
    });
    expect((await startFeature(capabilities, allowed.run)).contribution).toMatchObject({ privileged: true });
  });
});

describe('live log names', () => {
  it('derives the backing log from payload.log', () => {
    expect(backingLogName(undefined)).toBe('public/logs/live_backing.log');
    expect(backingLogName('private/x/task.log')).toBe('private/x/task_backing.log');
  });
});

describe('taskclusterProxy', () => {
  it('says which variables to set when there are no credentials', async () => {
    const { run } = fakeRun({ payload: { features: { taskclusterProxy: true } }, scopes: ['a'] });
    await expect(taskclusterProxy.start(run)).rejects.toThrow(
      /set TASKCLUSTER_ROOT_URL, TASKCLUSTER_CLIENT_ID and TASKCLUSTER_ACCESS_TOKEN/,
    );
  });
  it('starts the proxy with exactly the task scopes as arguments; none means anonymous only, not an error', async () => {
    for (const scopes of [[], ['queue:get-task:*', 'secrets:get:x', '--all-scopes']]) {
      const docker = new FakeDocker();
      docker.images.add('docker-worker/taskcluster-proxy:latest');
      docker.script = { output: 'exiting\n', exitCode: 0 }; // exits at once: no readiness wait
      const credentials = { clientId: 'c', accessToken: 'token-value' };
      const { run } = fakeRun({
        docker,
        scopes,
        credentials,
        rootUrl: 'https://tc.example.com',
        payload: { features: { taskclusterProxy: true } },
      });
      await expect(taskclusterProxy.start(run)).rejects.toMatchObject({ resolution: 'failed' });
      const [sidecar] = [...docker.containers.values()];
      expect(sidecar?.spec.cmd).toEqual(['--', ...scopes, 'queue:create-artifact:fakeTaskId0000000000AA/0']);
      expect(sidecar?.spec.env).toEqual({
        TASKCLUSTER_ROOT_URL: 'https://tc.example.com',
        TASKCLUSTER_CLIENT_ID: 'c',
        TASKCLUSTER_ACCESS_TOKEN_FILE: '/run/docker-worker-secrets/access-token',
        TASKCLUSTER_PROXY_CREDENTIALS_SECRET_FILE: '/run/docker-worker-secrets/credentials-secret',
      });
      // The secrets are files in the sidecar, never in its environment (docker inspect shows that).
      expect(sidecar?.spec.secretFiles?.['access-token']).toBe('token-value');
      expect(sidecar?.spec.secretFiles?.['credentials-secret']).toMatch(/^[0-9a-f]{64}$/);
      expect(sidecar?.spec).toMatchObject({
        capDrop: ['ALL'],
        capAdd: ['NET_BIND_SERVICE'],
        securityOpt: ['no-new-privileges'],
      });
    }
  });
});
