// The testdroidProxy feature through the runner (library, real engine, real clock, the proxy
// image as the sidecar): the simulated Testdroid cloud listens on this machine (the feature hands
// the sidecar the task network's gateway for a loopback cloud URL). A task sees DEVICE_CAPABILITIES,
// gets a device through http://testdroid, and the worker releases the session at the end even
// when the task fails or runs out of time; a missing build on every device goes through the flash
// path; a cloud that is down gives the task a clear error in its log.
import type { LocalRunResult } from '@docker-worker/runner';
import { startSimulatedCloud, type SimulatedCloud } from '@docker-worker/testdroid-proxy/testing';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildImage, docker, newSession, TEST_LABEL } from './docker.js';
import { printed, removeWorkerResources, runInProcess, workerLeftovers } from './runner-harness.js';

const session = newSession();
const workerId = `e2e-testdroid-${session}`;
const USER = 'runner-e2e@example.com';
const PASSWORD = 'runner-e2e-testdroid-password';
const BUILD = 'https://queue.example/api/queue/v1/task/T2/artifacts/private/build/b2g.zip';
const credentials = { clientId: 'worker/e2e-testdroid', accessToken: 'e2e-worker-access-token-abcdefghij' };
/**
 * The proxy image with short polling intervals (its defaults are 10 s for flash runs and 5 s for
 * proxies), set the way an operator would: a derived image whose ENV the CLI reads.
 */
const FAST_IMAGE = `docker-worker-test/testdroid-proxy-fast:${session}`;
let cloud: SimulatedCloud;
let workDir: string;

function buildFastImage(): void {
  buildImage({
    tag: FAST_IMAGE,
    labels: { [TEST_LABEL]: session },
    stdin: `FROM docker-worker/testdroid-proxy:latest\nENV TESTDROID_FLASH_POLL_MS=100 TESTDROID_PROXY_POLL_MS=100\n`,
  });
}

/** The sidecar's request-log line for the worker's end-of-task `POST /device/release`. */
const WORKER_RELEASE =
  /\[testdroid\] \{[^\n]*"method":"POST","url":"\/device\/release","status":200[^\n]*"msg":"request"/;

async function runTask(task: object, cloudUrl = cloud.url): Promise<LocalRunResult & { log: string }> {
  const r = await runInProcess({
    task,
    workerId,
    workDir,
    config: { testdroid: { image: FAST_IMAGE, cloudUrl, username: USER, password: PASSWORD } },
    credentials,
  });
  // no secret in the task log, whatever happened
  expect(r.log).not.toContain(PASSWORD);
  expect(r.log).not.toContain(credentials.accessToken);
  return r;
}

/** The task: prints its capabilities, asks http://testdroid for a device, prints the answer, then `then`. */
const task = (phone: object | undefined, then: string, maxRunTime = 180) => ({
  payload: {
    image: 'node:20-bookworm-slim',
    maxRunTime,
    features: { testdroidProxy: true },
    ...(phone ? { capabilities: { devices: { phone } } } : {}),
    command: [
      'node',
      '-e',
      `const out = (k, v) => console.log(k + ' ' + JSON.stringify(v));
       (async () => {
         out('CAPS', JSON.parse(process.env.DEVICE_CAPABILITIES));
         const r = await fetch('http://testdroid/device', { method: 'POST', headers: { 'content-type': 'application/json' }, body: process.env.DEVICE_CAPABILITIES });
         out('DEVICE', { status: r.status, body: await r.json() });
         ${then}
       })();`,
    ],
  },
});

describe('testdroidProxy through the runner', () => {
  beforeAll(async () => {
    buildFastImage();
    workDir = mkdtempSync(join(tmpdir(), 'dw-testdroid-runner-'));
    cloud = await startSimulatedCloud({
      host: '0.0.0.0',
      username: USER,
      password: PASSWORD,
      devices: [
        { id: 1, type: 'flame', sims: '1', memory: '319', build: BUILD },
        { id: 2, type: 'flame', sims: '2', memory: '512', build: 'https://old.example/b2g.zip' },
      ],
      flash: { waitingMs: 300, runningMs: 300 },
    });
  });

  afterAll(async () => {
    await cloud?.close();
    await docker
      .getImage(FAST_IMAGE)
      .remove({ force: true })
      .catch(() => undefined);
    rmSync(workDir, { recursive: true, force: true });
    const left = await workerLeftovers(workerId);
    await removeWorkerResources(workerId);
    expect(left).toEqual({ containers: 0, networks: 0 });
  });

  const phone = { type: 'flame', sims: '1', build: BUILD, memory: '319' };

  it('gives the task DEVICE_CAPABILITIES and a device, and releases the session when the task fails', async () => {
    const before = cloud.sessions.length;
    const r = await runTask(task(phone, 'process.exit(1);'));
    expect(r, r.log).toMatchObject({ state: 'failed', exitCode: 1 });
    expect(printed(r.log, 'CAPS')).toEqual([phone]);
    expect(printed(r.log, 'DEVICE')).toEqual([
      {
        status: 200,
        body: expect.objectContaining({ device: expect.objectContaining({ id: 1 }), proxyHost: '10.1.2.9' }),
      },
    ]);
    const sessions = cloud.sessions.slice(before);
    expect(sessions).toEqual([expect.objectContaining({ deviceId: 1, timeoutSec: 180, state: 'released' })]);
    // released by the worker's POST /device/release, not only by the sidecar's own SIGTERM handler
    expect(r.log).toMatch(WORKER_RELEASE);
    expect(r.log).not.toContain(PASSWORD);
  });

  it('releases the session when the task runs out of time', async () => {
    const before = cloud.sessions.length;
    const r = await runTask(task(phone, "console.log('HOLDING'); setInterval(() => {}, 1000);", 10));
    expect(r, r.log).toMatchObject({ state: 'failed' });
    expect(r.log).toContain('HOLDING');
    expect(cloud.sessions.slice(before)).toEqual([
      expect.objectContaining({ deviceId: 1, timeoutSec: 10, state: 'released' }),
    ]);
    expect(r.log).toMatch(WORKER_RELEASE);
  });

  it('flashes a device when none runs the build, then the task gets a session on it', async () => {
    const before = cloud.sessions.length;
    const flashPhone = { type: 'flame', sims: '2', build: BUILD, memory: '1024' };
    const r = await runTask(task(flashPhone, ''));
    expect(r, r.log).toMatchObject({ state: 'completed', exitCode: 0 });
    expect(printed(r.log, 'DEVICE')).toEqual([
      { status: 200, body: expect.objectContaining({ device: expect.objectContaining({ id: 2 }) }) },
    ]);
    const run = cloud.runs.at(-1);
    expect(run?.parameters.find((p) => p.key === 'BUILD_LABEL')?.value).toBe(`1024_${BUILD}`);
    expect(run?.parameters.find((p) => p.key === 'FLAME_ZIP_URL')?.value).toMatch(/\?bewit=[\w-]+$/);
    expect(cloud.sessions.slice(before)).toEqual([
      expect.objectContaining({ deviceId: 2, state: 'released' }),
    ]);
    expect(r.log).toMatch(WORKER_RELEASE);
  });

  it('refuses a task without phone capabilities as malformed-payload, starting no sidecar', async () => {
    const r = await runTask(task(undefined, ''));
    expect(r).toMatchObject({ state: 'exception', reasonResolved: 'malformed-payload' });
    expect(r.error?.message).toMatch(/^Device configuration must be supplied in task payload/);
    expect(r.log).not.toContain('[testdroid] ');
  });

  it('shows the task a clear error when the cloud is down', async () => {
    const down = await startSimulatedCloud({ host: '0.0.0.0' });
    const url = down.url;
    await down.close();
    const r = await runTask(task(phone, 'process.exit(1);'), url);
    expect(r, r.log).toMatchObject({ state: 'failed', exitCode: 1 });
    const [answer] = printed(r.log, 'DEVICE') as { status: number; body: { message: string } }[];
    expect(answer?.status).toBe(500);
    expect(answer?.body.message).toMatch(
      /^Testdroid cloud at http:\/\/\d+\.\d+\.\d+\.\d+:\d+\/ is unreachable \(POST oauth\/token, 4 attempts\): ECONNREFUSED$/,
    );
  });
});
