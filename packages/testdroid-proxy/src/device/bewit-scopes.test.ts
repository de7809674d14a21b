// The build URL is chosen by the task but signed with the worker's credentials: against a faithful
// Taskcluster (fake-taskcluster checks authorizedScopes as the auth service does), the bewit the
// flash path hands the cloud opens only what the task's own scopes allow.
import { startFakeTaskcluster } from '@docker-worker/fake-taskcluster';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { TestdroidClient } from '../cloud/client.js';
import { resolveConfig } from '../config.js';
import { FastClock } from '../testing/fast-clock.js';
import { startSimulatedCloud, type SimulatedCloud } from '../testing/simulated-cloud.js';
import { acquireDevice } from './acquire.js';

const WORKER = { clientId: 'worker/flame-pool', accessToken: 'worker-token-0123456789abcdef' };
const TASK_SCOPES = ['queue:get-artifact:private/build/*'];

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((o) => o.close()));
});

/** Runs the flash path for `build` and returns the signed FLAME_ZIP_URL the cloud was given. */
async function signedBuildFor(build: string): Promise<string> {
  const clock = new FastClock(Date.now());
  const cloud: SimulatedCloud = await startSimulatedCloud({
    now: clock.now,
    devices: [{ id: 21, type: 'flame', sims: '1', memory: '319', build: 'https://old/build.zip' }],
    flash: { waitingMs: 0 },
  });
  open.push(cloud);
  // the credentials exactly as the CLI builds them from its environment and the task scopes after --
  const config = resolveConfig(
    {},
    {
      TESTDROID_CLOUD_URL: cloud.url,
      TESTDROID_USERNAME: cloud.login.username,
      TESTDROID_PASSWORD: cloud.login.password,
      TASKCLUSTER_CLIENT_ID: WORKER.clientId,
      TASKCLUSTER_ACCESS_TOKEN: WORKER.accessToken,
      DEVICE_TIMEOUT: '600',
    },
    TASK_SCOPES,
  );
  await acquireDevice(
    {
      cloud: new TestdroidClient({ ...cloud.login, now: clock.now }),
      log: pino({ level: 'silent' }),
      credentials: config.taskcluster,
      deviceTimeoutSec: config.deviceTimeoutSec,
      proxyHost: '10.1.2.9',
      clock,
      random: () => 0,
    },
    { type: 'flame', sims: '1', memory: '319', build },
  );
  return cloud.runs[0]?.parameters.find((p) => p.key === 'FLAME_ZIP_URL')?.value ?? '';
}

describe('build URL bewits', () => {
  it("carry the task's scopes as authorizedScopes, so the worker's own scopes never reach a task-chosen URL", async () => {
    // the worker (operator) credentials hold everything
    const tc = await startFakeTaskcluster({ clients: [{ ...WORKER, scopes: ['*'] }] });
    open.push(tc);

    const allowed = await signedBuildFor(
      `${tc.rootUrl}/api/fake/v1/scoped/${encodeURIComponent('queue:get-artifact:private/build/b2g.zip')}`,
    );
    const bewit = new URL(allowed).searchParams.get('bewit') ?? '';
    const [id, , , ext] = Buffer.from(bewit, 'base64url').toString('utf8').split('\\');
    expect(id).toBe(WORKER.clientId);
    expect(JSON.parse(Buffer.from(ext ?? '', 'base64').toString('utf8'))).toEqual({
      authorizedScopes: TASK_SCOPES,
    });
    const ok = await fetch(allowed);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ ok: true, clientId: WORKER.clientId });

    const forbidden = await signedBuildFor(
      `${tc.rootUrl}/api/fake/v1/scoped/${encodeURIComponent('secrets:get:worker-pool/flame')}`,
    );
    const refused = await fetch(forbidden);
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { code: string }).code).toBe('InsufficientScopes');
  });
});
