import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createApp } from './app.js';
import { TestdroidClient } from './cloud/client.js';
import { DeviceManager } from './device/device-manager.js';
import { FastClock } from './testing/fast-clock.js';
import { startSimulatedCloud, type SimulatedCloudOptions } from './testing/simulated-cloud.js';

const BUILD = 'https://queue.example/builds/b2g.zip';
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c()));
});

/**
 * A clock whose sleeps last until the flow is aborted: the acquisition waits where it is.
 * `held` resolves when the flow first sleeps.
 */
class HeldClock extends FastClock {
  private hold: () => void = () => undefined;
  readonly held = new Promise<void>((resolve) => (this.hold = resolve));
  override async sleep(_ms: number, signal?: AbortSignal): Promise<void> {
    this.hold();
    await new Promise<void>((_resolve, reject) => {
      if (signal?.aborted) reject(signal.reason);
      signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
    });
  }
}

async function setup(sim: Omit<SimulatedCloudOptions, 'now'> = {}, clock: FastClock = new FastClock()) {
  const cloud = await startSimulatedCloud({
    now: clock.now,
    devices: [
      {
        id: 5,
        type: 'flame',
        sims: '1',
        memory: '319',
        build: BUILD,
        properties: [
          { propertyGroupName: 'Phone Number', displayName: '+15550001' },
          { propertyGroupName: 'Tag', displayName: 'a' },
          { propertyGroupName: 'Tag', displayName: 'b' },
          { propertyGroupName: 'Tag', displayName: 'c' },
        ],
      },
    ],
    ...sim,
  });
  closers.push(() => cloud.close());
  const log = pino({ level: 'silent' });
  const client = new TestdroidClient({
    ...cloud.login,
    now: clock.now,
    sleep: async () => undefined,
  });
  const devices = new DeviceManager({
    cloud: client,
    log,
    clock,
    credentials: { clientId: 'worker', accessToken: 'worker-token', authorizedScopes: [] },
    deviceTimeoutSec: 600,
    proxyHost: '10.1.2.9',
  });
  const server: Server = createApp({ cloud: client, devices, log }).listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  closers.push(() => new Promise((resolve) => server.close(() => resolve())));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(base + path, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, text, json: json as Record<string, unknown> };
  };
  return { cloud, call, devices };
}

const wanted = { type: 'flame', memory: '319', build: BUILD, sims: '1' };

describe('createApp', () => {
  it('answers GET / and lists all cloud devices', async () => {
    const { call } = await setup();
    expect((await call('GET', '/')).text).toBe('Server running');
    const devices = await call('GET', '/devices');
    expect(devices.json).toEqual([expect.objectContaining({ id: 5, online: true, locked: false })]);
  });

  it.each([
    [{ type: 'flame', build: BUILD }, 'memory', '"memory" is required (a string)'],
    [
      { ...wanted, colour: 'red' },
      'colour',
      '"colour" is not allowed; allowed: type, build, memory, sims, imei, phone_number',
    ],
    [{ ...wanted, sims: 1 }, 'sims', '"sims" must be a string'],
    [{ ...wanted, type: '' }, 'type', '"type" must not be empty'],
  ])('rejects %j with 400 naming the field', async (body, field, message) => {
    const { call, cloud } = await setup();
    const res = await call('POST', '/device', body);
    expect(res.status).toBe(400);
    expect(res.json).toEqual({
      statusCode: 400,
      error: 'Bad Request',
      message,
      validation: { source: 'payload', keys: [field] },
    });
    expect(cloud.callsTo('POST', 'api/v2/me/device-sessions')).toHaveLength(0);
  });

  it('rejects a body that is not JSON, none, or not an object, with one clear line', async () => {
    const { call } = await setup();
    expect((await call('POST', '/device', 'type=flame')).json).toMatchObject({
      statusCode: 400,
      message: 'The request body is not valid JSON',
    });
    const none = await call('POST', '/device');
    expect([none.status, none.json.message]).toEqual([400, '"type" is required (a string)']);
    const list = await call('POST', '/device', '[1]');
    expect([list.status, list.json.message]).toEqual([
      400,
      'The body must be a JSON object like {"type":"flame","memory":"319","build":"https://..."}',
    ]);
  });

  it('acquires a device, reports it, flattens its properties and releases it (twice is fine)', async () => {
    const { call, cloud } = await setup();
    const got = await call('POST', '/device', wanted);
    expect(got.status).toBe(200);
    expect(Object.keys(got.json)).toEqual(['session', 'device', 'proxies', 'proxyHost']);
    expect(got.json).toMatchObject({
      device: { id: 5 },
      proxyHost: '10.1.2.9',
      proxies: { adb: { type: 'adb' }, marionette: { type: 'marionette' } },
    });
    expect((await call('GET', '/device')).json).toMatchObject({ state: 'ready', device: { id: 5 } });

    const again = await call('POST', '/device', wanted);
    expect(again.status).toBe(409);
    expect(again.json.message).toBe(
      'A device session is already active; POST /device/release before requesting another device',
    );

    const props = await call('GET', '/device/properties');
    expect(props.json).toEqual({
      codename: 'flame',
      sims: '1',
      build_identifier: `319_${BUILD}`,
      memory: '319',
      phone_number: '+15550001',
      tag: ['a', 'b', 'c'],
    });

    expect((await call('POST', '/device/release')).text).toBe('Device released');
    expect(cloud.activeSessions()).toHaveLength(0);
    const twice = await call('POST', '/device/release');
    expect([twice.status, twice.text]).toEqual([200, 'No device session to release']);
    expect(cloud.callsTo('POST', /release$/)).toHaveLength(1);
    expect((await call('GET', '/device/properties')).status).toBe(404);
  });

  it('offers a poll mode: POST /device?wait=false answers 202, GET /device shows the outcome', async () => {
    const { call, devices } = await setup({ proxyDelayPolls: 2 });
    const acquire = vi.spyOn(devices, 'acquire');
    const started = await call('POST', '/device?wait=false', wanted);
    expect(started.status).toBe(202);
    expect(started.json).toMatchObject({ state: 'acquiring' });
    await acquire.mock.results[0]?.value; // the background acquisition has finished
    expect((await call('GET', '/device')).json.state).toBe('ready');
    expect((await call('GET', '/device')).json).toMatchObject({ proxies: { adb: { type: 'adb' } } });
  });

  it('release during a polled acquisition cancels it and gives back any session', async () => {
    // The session exists and the flow sleeps between proxy polls until the release aborts it
    // (with a fast clock the 30 polls could run out first and the release would find nothing).
    const clock = new HeldClock();
    const { call, cloud } = await setup({ proxyDelayPolls: 1_000_000 }, clock);
    await call('POST', '/device?wait=false', wanted);
    await clock.held;
    expect(cloud.sessions).toHaveLength(1);
    const res = await call('POST', '/device/release');
    expect(res.text).toBe('Device request cancelled');
    expect(cloud.activeSessions()).toHaveLength(0);
    expect((await call('GET', '/device')).json).toEqual({ state: 'idle' });
  });

  it('answers 500 with the reason when the cloud is down', async () => {
    const { call, cloud } = await setup();
    await cloud.close();
    const res = await call('POST', '/device', wanted);
    expect(res.status).toBe(500);
    expect(res.json.message).toMatch(
      /^Testdroid cloud at http:\/\/127\.0\.0\.1:\d+\/ is unreachable \(POST oauth\/token, 4 attempts\): ECONNREFUSED$/,
    );
    expect(res.json.error).toBe(`Error: ${String(res.json.message)}`);
    expect((await call('GET', '/device')).json).toEqual({ state: 'failed', error: res.json.message });
  });

  it("answers 502 when a plain call to the cloud fails (the cloud's own 404 is not about this route)", async () => {
    const { call, cloud } = await setup();
    cloud.failNext({ path: 'api/v2/devices', status: 404 });
    const res = await call('GET', '/devices');
    expect(res.status).toBe(502);
    expect(res.json).toMatchObject({ statusCode: 502, error: expect.stringMatching(/^Error: /) });
    expect(res.json.message).toMatch(/^Testdroid cloud .*404/);
    expect(res.text).not.toContain('sim-password');
  });

  it('answers 404 for unknown routes', async () => {
    const { call } = await setup();
    expect((await call('GET', '/nope')).json).toMatchObject({
      statusCode: 404,
      message: 'No route GET /nope; see the testdroid-proxy README',
    });
  });
});
