import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Sidecar, SidecarOptions } from '../docker/sidecar.js';
import { failure } from '../errors.js';
import { runTask } from '../task-run.js';
import { FakeDocker } from '../testing/fake-docker.js';
import { fakeOutcome, fakeRun, fakeTask, startFeature } from '../testing/fake-run.js';
import type { Feature } from './feature.js';
import { createTestdroidProxy, testdroidProxy } from './testdroid-proxy.js';

const phone = { type: 'flame', sims: '1', build: 'https://queue.example/b2g.zip', memory: '319' };
const testdroid = {
  cloudUrl: 'http://127.0.0.1:4567',
  username: 'ci@example.com',
  password: 'testdroid-secret',
};
const credentials = { clientId: 'worker/w1', accessToken: 'worker-token', certificate: '{"version":1}' };
const requested = {
  scopes: ['queue:get-artifact:private/build/*', 'secrets:get:project/flame'],
  payload: { features: { testdroidProxy: true }, capabilities: { devices: { phone } }, maxRunTime: 900 },
};

/** A started sidecar that exists only in the test. */
function stubSidecar(ip: string, stop: () => Promise<void>): Sidecar {
  return {
    alias: 'testdroid',
    containerId: 'c-testdroid',
    ip,
    hostsEntry: `testdroid:${ip.split(':')[0] ?? ip}`,
    lastLines: () => [],
    stop,
    [Symbol.asyncDispose]: stop,
  };
}

/** A feature whose sidecar is recorded instead of started, and whose release calls are recorded. */
function recording(opts: { releaseFails?: boolean; sidecarFails?: boolean } = {}) {
  const events: string[] = [];
  const started: SidecarOptions[] = [];
  const feature = createTestdroidProxy({
    startSidecar: async (_run, options) => {
      started.push(options);
      if (opts.sidecarFails)
        throw failure(
          'the testdroid sidecar (img) exited with status 64 before it was ready; its last log lines:\ntestdroid-proxy: missing --username',
        );
      return stubSidecar('172.30.0.9', async () => void events.push('sidecar removed'));
    },
    release: async (sidecar) => {
      events.push(`release ${sidecar.ip}`);
      if (opts.releaseFails) throw new Error('connect ECONNREFUSED 172.30.0.9:80');
      return 'Device released';
    },
  });
  return { feature, events, started };
}

describe('testdroidProxy', () => {
  it('is requested by payload.features.testdroidProxy and enabled only with Testdroid credentials', () => {
    expect(testdroidProxy.isRequested(fakeTask(requested))).toBe(true);
    expect(testdroidProxy.isRequested(fakeTask())).toBe(false);
    expect(testdroidProxy.isEnabled(fakeRun({ config: { testdroid } }).run.config)).toBe(true);
    expect(testdroidProxy.isEnabled(fakeRun().run.config)).toBe(false);
  });

  it('starts the sidecar as testdroid with the cloud, credentials restricted to the task scopes and maxRunTime, and gives the task DEVICE_CAPABILITIES', async () => {
    const { feature, started } = recording();
    const { run } = fakeRun({ config: { testdroid }, credentials, ...requested });
    const { contribution } = await startFeature(feature, run);
    expect(contribution).toEqual({
      env: { DEVICE_CAPABILITIES: JSON.stringify(phone) },
      extraHosts: ['testdroid:172.30.0.9'],
    });
    expect(started).toEqual([
      {
        image: 'docker-worker/testdroid-proxy:latest',
        alias: 'testdroid',
        readyPort: 80,
        readyPath: '/',
        timeoutMs: run.config.sidecarTimeoutMs,
        env: {
          // loopback cloud (a simulator on the host) → the task network's gateway
          TESTDROID_CLOUD_URL: 'http://172.30.0.1:4567/',
          TESTDROID_USERNAME: 'ci@example.com',
          TESTDROID_PASSWORD_FILE: '/run/docker-worker-secrets/testdroid-password',
          TASKCLUSTER_CLIENT_ID: 'worker/w1',
          TASKCLUSTER_ACCESS_TOKEN_FILE: '/run/docker-worker-secrets/access-token',
          TASKCLUSTER_CERTIFICATE_FILE: '/run/docker-worker-secrets/certificate',
          DEVICE_TIMEOUT: '900',
        },
        // the secrets are files in the sidecar, never in its environment (docker inspect shows that)
        secretFiles: {
          'testdroid-password': 'testdroid-secret',
          'access-token': 'worker-token',
          certificate: '{"version":1}',
        },
        capDrop: ['ALL'],
        capAdd: ['NET_BIND_SERVICE'],
        // after --: the authorizedScopes of every signed build URL
        cmd: ['--', 'queue:get-artifact:private/build/*', 'secrets:get:project/flame'],
      },
    ]);
  });

  it('gives a task without scopes an empty list after --: its bewits hold only the anonymous role', async () => {
    const { feature, started } = recording();
    const { run } = fakeRun({ config: { testdroid }, credentials, ...requested, scopes: [] });
    await startFeature(feature, run);
    expect(started[0]?.cmd).toEqual(['--']);
  });

  it.each([
    [
      { capabilities: {} },
      /^Device configuration must be supplied in task payload: testdroidProxy needs payload\.capabilities\.devices\.phone/,
    ],
    [
      { capabilities: { devices: { kvm: true } } },
      /^Phone device configuration must be supplied in task payload/,
    ],
  ])('refuses %j as malformed-payload, starting nothing', async (over, message) => {
    const { feature, started } = recording();
    const { run } = fakeRun({
      config: { testdroid },
      credentials,
      payload: { ...requested.payload, ...over },
    });
    const err = await feature.start(run).catch((e: unknown) => e);
    expect(err).toMatchObject({ resolution: 'malformed-payload', message: expect.stringMatching(message) });
    expect(started).toEqual([]);
  });

  it('needs Taskcluster credentials to sign build URLs', async () => {
    const { feature } = recording();
    const { run } = fakeRun({ config: { testdroid }, ...requested });
    await expect(feature.start(run)).rejects.toMatchObject({ resolution: 'resource-unavailable' });
  });

  it('says the testdroid proxy service failed to initialize, keeping the sidecar lines', async () => {
    const { feature } = recording({ sidecarFails: true });
    const { run } = fakeRun({ config: { testdroid }, credentials, ...requested });
    await expect(feature.start(run)).rejects.toMatchObject({
      resolution: 'failed',
      message: expect.stringMatching(
        /^Failed to initialize testdroid proxy service: .*\ntestdroid-proxy: missing --username$/,
      ),
    });
  });

  it('through the lifecycle: releases the device before removing the sidecar, also when the task fails', async () => {
    const { feature, events } = recording();
    const docker = new FakeDocker();
    docker.script = { output: 'task failing on purpose\n', exitCode: 3 };
    const { run } = fakeRun({ docker, config: { testdroid }, credentials, ...requested });
    const image: Feature = {
      name: 'image',
      isEnabled: () => true,
      isRequested: () => true,
      start: async () => ({ contribution: { image: 'sha256:x' } }),
    };
    const outcome = await runTask(run, [image, feature]);
    expect(outcome, outcome.error?.message).toMatchObject({ state: 'failed', exitCode: 3 });
    expect(events).toEqual(['release 172.30.0.9', 'sidecar removed']);
  });

  it('removes the sidecar and says so in the task log when the release fails', async () => {
    const { feature, events } = recording({ releaseFails: true });
    const { run, dir } = fakeRun({ config: { testdroid }, credentials, ...requested });
    await (await startFeature(feature, run)).stop(fakeOutcome());
    expect(events).toEqual(['release 172.30.0.9', 'sidecar removed']);
    await run.liveLog.close();
    expect(readFileSync(join(dir, 'live.log'), 'utf8')).toContain(
      'Could not release the testdroid device session: connect ECONNREFUSED 172.30.0.9:80',
    );
  });

  it('the default release POSTs /device/release to the sidecar', async () => {
    const seen: string[] = [];
    const server = createServer((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      res.end('No device session to release');
    }).listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      let removed = false;
      const feature = createTestdroidProxy({
        startSidecar: async () => stubSidecar(`127.0.0.1:${port}`, async () => void (removed = true)),
        release: (await import('./testdroid-proxy.js')).defaultRelease,
      });
      const { run } = fakeRun({ config: { testdroid }, credentials, ...requested });
      await (
        await startFeature(feature, run)
      ).stop(fakeOutcome({ state: 'exception', reasonResolved: 'internal-error', exitCode: null }));
      expect(seen).toEqual(['POST /device/release']);
      expect(removed).toBe(true);
    } finally {
      server.close();
    }
  });
});
