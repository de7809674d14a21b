import hawk from 'hawk';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { TestdroidClient } from '../cloud/client.js';
import { FastClock } from '../testing/fast-clock.js';
import {
  startSimulatedCloud,
  type SimulatedCloud,
  type SimulatedCloudOptions,
} from '../testing/simulated-cloud.js';
import { acquireDevice, type AcquireDeps } from './acquire.js';
import type { DeviceRequest } from './request.js';

const BUILD = 'https://queue.example:443/api/queue/v1/task/T1/artifacts/private/build/b2g.zip';
const TASK_SCOPES = ['queue:get-artifact:private/build/*'];
const CREDS = {
  clientId: 'worker/flame-pool',
  accessToken: 'worker-access-token-0123456789',
  authorizedScopes: TASK_SCOPES,
};
const request: DeviceRequest = { type: 'flame', sims: '1', memory: '319', build: BUILD };

const clouds: SimulatedCloud[] = [];
afterEach(async () => {
  await Promise.all(clouds.splice(0).map((c) => c.close()));
});

async function setup(sim: Omit<SimulatedCloudOptions, 'now'>, deps: Partial<AcquireDeps> = {}) {
  const clock = new FastClock();
  const cloud = await startSimulatedCloud({ now: clock.now, ...sim });
  clouds.push(cloud);
  const client = new TestdroidClient({
    ...cloud.login,
    now: clock.now,
  });
  const runStates: string[] = [];
  const getRun = client.getRun.bind(client);
  client.getRun = async (pid, rid) => {
    const run = await getRun(pid, rid);
    if (runStates.at(-1) !== run.state) runStates.push(run.state);
    return run;
  };
  const acquireDeps: AcquireDeps = {
    cloud: client,
    log: pino({ level: 'silent' }),
    credentials: CREDS,
    deviceTimeoutSec: 5400,
    proxyHost: '10.1.2.9',
    clock,
    random: () => 0,
    ...deps,
  };
  return { cloud, clock, client, runStates, deps: acquireDeps };
}

const flame = (over: Partial<Parameters<SimulatedCloud['addDevice']>[0]> = {}) => ({
  type: 'flame',
  sims: '1',
  memory: '319',
  build: BUILD,
  ...over,
});

describe('acquireDevice', () => {
  it('starts a session on an online, unlocked device with the build, for deviceTimeout seconds, and returns its proxies', async () => {
    const { cloud, deps } = await setup({
      devices: [flame({ id: 11, online: false }), flame({ id: 12 }), flame({ id: 13, locked: true })],
    });
    const got = await acquireDevice(deps, request);
    expect(got.device.id).toBe(12);
    expect(got.proxyHost).toBe('10.1.2.9');
    expect(got.proxies.adb).toMatchObject({ type: 'adb', sessionId: got.session.id });
    expect(got.proxies.marionette).toMatchObject({ type: 'marionette', sessionId: got.session.id });
    expect(cloud.activeSessions()).toEqual([
      expect.objectContaining({ id: got.session.id, deviceId: 12, timeoutSec: 5400 }),
    ]);
    expect(cloud.runs).toHaveLength(0);
  });

  it('retries a failing session start on the same device after 2 s', async () => {
    const { cloud, clock, deps } = await setup({ devices: [flame({ id: 12 })] });
    cloud.failNext({ method: 'POST', path: 'api/v2/me/device-sessions', status: 409, times: 2 });
    const got = await acquireDevice(deps, request);
    expect(got.device.id).toBe(12);
    expect(cloud.callsTo('POST', 'api/v2/me/device-sessions').map((c) => c.status)).toEqual([409, 409, 201]);
    expect(clock.slept).toBe(4_000);
  });

  it('flashes a device without the build (WAITING → RUNNING → FINISHED), then starts a session on it', async () => {
    const { cloud, deps, runStates } = await setup({
      devices: [
        flame({ id: 21, build: 'https://old/build.zip', memory: '1024' }),
        flame({ id: 22, type: 'aries' }),
      ],
      flash: { waitingMs: 25_000, runningMs: 60_000, rebootMs: 30_000 },
    });
    const got = await acquireDevice(deps, request);
    expect(runStates).toEqual(['WAITING', 'RUNNING', 'FINISHED']);
    expect(got.device.id).toBe(21);
    const [run] = cloud.runs;
    expect(run?.deviceIds).toEqual([21]);
    expect(run?.parameters.map((p) => p.key)).toEqual(['FLAME_ZIP_URL', 'MEM_TOTAL', 'BUILD_LABEL']);
    const param = (k: string) => run?.parameters.find((p) => p.key === k)?.value;
    expect(param('MEM_TOTAL')).toBe('319');
    expect(param('BUILD_LABEL')).toBe(`319_${BUILD}`);
    expect(param('FLAME_ZIP_URL')?.startsWith(`${BUILD}?bewit=`)).toBe(true);
    expect(cloud.devices.find((d) => d.id === 21)?.buildLabel).toBe(`319_${BUILD}`);
    expect(cloud.activeSessions().map((s) => s.deviceId)).toEqual([21]);
  });

  it('signs the build URL with a bewit that Hawk accepts for the worker credentials restricted to the task scopes, valid for the session', async () => {
    const { cloud, clock, deps } = await setup({
      devices: [flame({ id: 21, build: 'https://old/build.zip' })],
      flash: { waitingMs: 0 },
    });
    const startedAt = clock.now();
    await acquireDevice({ ...deps, deviceTimeoutSec: 7200 }, request);
    const signed = cloud.runs[0]?.parameters.find((p) => p.key === 'FLAME_ZIP_URL')?.value ?? '';
    const url = new URL(signed);
    const auth = await hawk.server.authenticateBewit(
      { method: 'GET', url: url.pathname + url.search, host: 'queue.example', port: 443 },
      async (id: string) =>
        id === CREDS.clientId ? { id, key: CREDS.accessToken, algorithm: 'sha256' as const } : null,
      { localtimeOffsetMsec: clock.now() - Date.now() },
    );
    expect(auth.credentials.id).toBe(CREDS.clientId);
    expect(Number(auth.attributes.exp)).toBe(Math.floor(startedAt / 1000) + 7200);
    expect(JSON.parse(Buffer.from(auth.attributes.ext, 'base64').toString('utf8'))).toEqual({
      authorizedScopes: TASK_SCOPES,
    });
  });

  it('fails clearly when the flash run ends FAILED on both attempts, holding no session', async () => {
    const { cloud, deps } = await setup({
      devices: [flame({ id: 21, build: 'https://old/build.zip' })],
      flash: { waitingMs: 10_000, runningMs: 10_000, fail: true },
    });
    await expect(acquireDevice(deps, request)).rejects.toThrow(
      'Could not flash device after 2 attempts. Flashing device flame 21 (id 21) failed; check that the build URL points at a flashable build the device can download',
    );
    expect(cloud.runs).toHaveLength(2);
    expect(cloud.activeSessions()).toHaveLength(0);
    expect(cloud.devices[0]?.locked).toBe(false);
  });

  it('says no device has the capabilities when none matches', async () => {
    const { cloud, deps } = await setup({ devices: [flame({ id: 21 })] });
    await expect(acquireDevice(deps, { ...request, type: 'nexus' })).rejects.toThrow(
      'Could not flash device after 2 attempts. Could not find device with capabilities: {"type":"nexus","sims":"1"}',
    );
    expect(cloud.callsTo('POST', 'api/v2/me/device-sessions')).toHaveLength(0);
  });

  it('says how many devices were found when none is online and unlocked', async () => {
    const { deps } = await setup({
      devices: [flame({ id: 21, online: false }), flame({ id: 22, locked: true })],
    });
    await expect(acquireDevice(deps, request)).rejects.toThrow(
      'Could not flash device after 2 attempts. Found 2 device(s) for flashing with desired capabilities but none were online and unlocked. Capabilities: {"type":"flame","sims":"1"}',
    );
  });

  it('aborts a flash run still WAITING after the deadline', async () => {
    const { cloud, deps } = await setup({
      devices: [flame({ id: 21, build: 'https://old/build.zip' })],
      flash: { waitingMs: 3_600_000 },
    });
    await expect(acquireDevice({ ...deps, options: { attempts: 1 } }, request)).rejects.toThrow(
      'Could not flash device after 1 attempts. Flash project aborted because it exceeded 10 minutes. Flash Run State: WAITING',
    );
    expect(cloud.callsTo('POST', /^api\/v2\/runs\/\d+\/abort$/)).toHaveLength(1);
    expect(cloud.devices[0]?.locked).toBe(false);
  });

  it('polls the proxy list until the proxies appear', async () => {
    const { cloud, clock, deps } = await setup({ devices: [flame({ id: 12 })], proxyDelayPolls: 3 });
    const got = await acquireDevice(deps, request);
    expect(got.proxies.adb).toMatchObject({ type: 'adb' });
    expect(cloud.callsTo('GET', 'api/v2/proxy-plugin/proxies')).toHaveLength(8);
    expect(clock.slept).toBe(6 * 5_000);
  });

  it('releases the session when the proxies never appear', async () => {
    const { cloud, deps } = await setup({ devices: [flame({ id: 12 })], proxyDelayPolls: 1000 });
    await expect(acquireDevice(deps, request)).rejects.toThrow(
      /set up no adb proxy for session \d+ within 150 s/,
    );
    expect(cloud.sessions).toHaveLength(1);
    expect(cloud.activeSessions()).toHaveLength(0);
  });

  it('releases a session obtained before an abort', async () => {
    const { cloud, deps } = await setup({ devices: [flame({ id: 12 })], proxyDelayPolls: 1000 });
    const controller = new AbortController();
    const getProxies = deps.cloud.getProxies.bind(deps.cloud);
    deps.cloud.getProxies = async (type, id) => {
      controller.abort(new Error('released by the task'));
      return getProxies(type, id);
    };
    await expect(acquireDevice(deps, request, controller.signal)).rejects.toThrow('released by the task');
    expect(cloud.sessions).toHaveLength(1);
    expect(cloud.activeSessions()).toHaveLength(0);
  });

  describe('a POST answered 500 (not safe to repeat)', () => {
    it('a session start answered 500 before anything was done: the device is still free, so it is tried again; one session', async () => {
      const { cloud, deps } = await setup({ devices: [flame({ id: 12 })] });
      cloud.failNext({ method: 'POST', path: 'api/v2/me/device-sessions', status: 500 });
      const got = await acquireDevice(deps, request);
      expect(got.device.id).toBe(12);
      expect(cloud.callsTo('POST', 'api/v2/me/device-sessions').map((c) => c.status)).toEqual([500, 201]);
      expect(cloud.sessions).toHaveLength(1);
    });

    it('a session start answered 500 after the cloud started it: that device is locked, so it is not tried again', async () => {
      const { cloud, deps } = await setup({ devices: [flame({ id: 12 }), flame({ id: 13 })] });
      cloud.failNext({ method: 'POST', path: 'api/v2/me/device-sessions', status: 500, applied: true });
      const warnings: unknown[] = [];
      const got = await acquireDevice({ ...deps, log: recordingLog(warnings) }, request);
      const tries = cloud.callsTo('POST', 'api/v2/me/device-sessions');
      // one try on the first device (its session started, its answer lost), then the other device
      expect(tries.map((c) => [c.body.deviceModelId, c.status])).toEqual([
        ['13', 500],
        ['12', 201],
      ]);
      expect(got.device.id).toBe(12);
      expect(warnings).toContainEqual(
        expect.objectContaining({
          deviceId: 13,
          msg: 'device locked after an unanswered session start; not tried again',
        }),
      );
    });

    it('with no other device, the error says a session may be left on the locked one', async () => {
      const { cloud, deps } = await setup({ devices: [flame({ id: 12 })] });
      cloud.failNext({ method: 'POST', path: 'api/v2/me/device-sessions', status: 500, applied: true });
      const err = (await acquireDevice({ ...deps, options: { attempts: 1 } }, request).catch(
        (e: unknown) => e,
      )) as Error;
      expect(err.message).toBe(
        'Could not flash device after 1 attempts. Found 1 device(s) for flashing with desired capabilities but none were online and unlocked. Capabilities: {"type":"flame","sims":"1"} Note: device flame 12 (id 12) may hold a session the cloud started without answering (Testdroid cloud answered POST me/device-sessions with 500 Internal Server Error: Simulated failure (not retried: POST me/device-sessions is not safe to repeat, and the cloud may have done it)); it is locked now, was not tried again, and the cloud ends that session after 5400 s.',
      );
      expect(cloud.callsTo('POST', 'api/v2/me/device-sessions')).toHaveLength(1);
      expect(cloud.sessions).toHaveLength(1);
    });

    it('starting the flash run answered 500 after the cloud started it: the run is looked at, not started again; one run', async () => {
      const { cloud, deps } = await setup({
        devices: [flame({ id: 21, build: 'https://old/build.zip' })],
        flash: { waitingMs: 0 },
      });
      cloud.failNext({ method: 'POST', path: /^api\/v2\/runs\/\d+\/start$/, status: 500, applied: true });
      const got = await acquireDevice(deps, request);
      expect(got.device.id).toBe(21);
      expect(cloud.runs).toHaveLength(1);
      expect(cloud.callsTo('POST', /^api\/v2\/runs\/\d+\/start$/).map((c) => c.status)).toEqual([500]);
    });

    it('starting the flash run answered 500 before anything was done: the run is still CREATED, so it is started once more', async () => {
      const { cloud, deps } = await setup({
        devices: [flame({ id: 21, build: 'https://old/build.zip' })],
        flash: { waitingMs: 0 },
      });
      cloud.failNext({ method: 'POST', path: /^api\/v2\/runs\/\d+\/start$/, status: 500 });
      await acquireDevice(deps, request);
      expect(cloud.runs).toHaveLength(1);
      expect(cloud.callsTo('POST', /^api\/v2\/runs\/\d+\/start$/).map((c) => c.status)).toEqual([500, 200]);
    });

    it('a flash parameter answered 500 after it was added is not added twice', async () => {
      const { cloud, deps } = await setup({
        devices: [flame({ id: 21, build: 'https://old/build.zip' })],
        flash: { waitingMs: 0 },
      });
      cloud.failNext({ method: 'POST', path: /config\/parameters$/, status: 500, applied: true });
      await acquireDevice(deps, request);
      expect(cloud.runs[0]?.parameters.map((p) => p.key)).toEqual([
        'FLAME_ZIP_URL',
        'MEM_TOTAL',
        'BUILD_LABEL',
      ]);
    });

    it('creating the flash run answered 500: not repeated at once; the attempt fails clearly and the next one flashes', async () => {
      const { cloud, deps } = await setup({
        devices: [flame({ id: 21, build: 'https://old/build.zip' })],
        flash: { waitingMs: 0 },
      });
      cloud.failNext({ method: 'POST', path: 'api/v2/runs', status: 500, applied: true });
      const warnings: unknown[] = [];
      const got = await acquireDevice({ ...deps, log: recordingLog(warnings) }, request);
      expect(got.device.id).toBe(21);
      expect(warnings).toContainEqual(
        expect.objectContaining({
          attempt: 1,
          err: 'Could not create a run of the flash project: Testdroid cloud answered POST runs with 500 Internal Server Error: Simulated failure (not retried: POST runs is not safe to repeat, and the cloud may have done it); an unstarted run may be left in "flash-fxos-new-url" (it flashes nothing)',
        }),
      );
      // the one the cloud made but never answered is left unstarted; exactly one run was started
      expect(cloud.runs.map((r) => r.state)).toEqual(['CREATED', 'FINISHED']);
    });
  });
});

/** A pino logger whose warn/error entries land in `into`. */
function recordingLog(into: unknown[]) {
  return pino({ level: 'warn' }, { write: (line: string) => void into.push(JSON.parse(line) as unknown) });
}
