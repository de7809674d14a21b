import { afterEach, describe, expect, it } from 'vitest';
import { FastClock } from './fast-clock.js';
import { startSimulatedCloud, type SimulatedCloud } from './simulated-cloud.js';

const clouds: SimulatedCloud[] = [];
afterEach(async () => {
  await Promise.all(clouds.splice(0).map((c) => c.close()));
});

async function start(clock = new FastClock()) {
  const cloud = await startSimulatedCloud({
    now: clock.now,
    devices: [{ id: 3, type: 'flame', sims: '1', memory: '319', build: 'old' }],
    flash: { waitingMs: 1_000, runningMs: 2_000, rebootMs: 5_000 },
  });
  clouds.push(cloud);
  const form = (fields: Record<string, string>) => ({
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
  });
  const login = await fetch(
    `${cloud.url}oauth/token`,
    form({
      client_id: 'testdroid-cloud-api',
      grant_type: 'password',
      username: 'user@example.com',
      password: 'sim-password',
    }),
  );
  const { access_token: token } = (await login.json()) as { access_token: string };
  const api = async (method: string, path: string, fields?: Record<string, string>) => {
    const init: RequestInit = fields ? form(fields) : {};
    const res = await fetch(`${cloud.url}api/v2/${path}`, {
      ...init,
      method,
      headers: { ...(init.headers as Record<string, string>), authorization: `Bearer ${token}` },
    });
    return {
      status: res.status,
      body: res.status === 204 ? undefined : ((await res.json()) as Record<string, unknown>),
    };
  };
  return { cloud, clock, api, form };
}

describe('startSimulatedCloud', () => {
  it('refuses API calls without a valid Bearer token and logins with wrong credentials or client id', async () => {
    const { cloud, form } = await start();
    expect((await fetch(`${cloud.url}api/v2/devices`)).status).toBe(401);
    expect(
      (await fetch(`${cloud.url}api/v2/devices`, { headers: { authorization: 'Bearer nope' } })).status,
    ).toBe(401);
    const bad = await fetch(
      `${cloud.url}oauth/token`,
      form({
        client_id: 'testdroid-cloud-api',
        grant_type: 'password',
        username: 'user@example.com',
        password: 'x',
      }),
    );
    expect([bad.status, await bad.json()]).toEqual([
      400,
      { error: 'invalid_grant', error_description: 'Bad credentials' },
    ]);
    const client = await fetch(
      `${cloud.url}oauth/token`,
      form({ client_id: 'other', grant_type: 'password' }),
    );
    expect(client.status).toBe(401);
  });

  it('moves a flash run WAITING → RUNNING → FINISHED on its clock, relabels the device, and reboots it', async () => {
    const { api, clock, cloud } = await start();
    const run = (await api('POST', 'runs', { projectId: '7001' })).body as { id: number };
    await api('POST', `me/projects/7001/runs/${run.id}/config/parameters`, {
      key: 'BUILD_LABEL',
      value: '319_new',
    });
    await api('POST', `runs/${run.id}/start`, { 'usedDeviceIds[]': '3' });
    const state = async () =>
      ((await api('GET', `me/projects/7001/runs/${run.id}`)).body as { state: string }).state;
    expect(await state()).toBe('WAITING');
    expect(cloud.devices[0]).toMatchObject({ locked: true });
    clock.advance(1_000);
    expect(await state()).toBe('RUNNING');
    clock.advance(2_000);
    expect(await state()).toBe('FINISHED');
    expect(cloud.devices[0]).toMatchObject({ buildLabel: '319_new', locked: false, online: false });
    expect((await api('GET', `runs/${run.id}/device-runs`)).body?.data).toEqual([
      { id: run.id * 100, deviceId: 3, runStatus: 'SUCCEEDED' },
    ]);
    clock.advance(5_000);
    await api('GET', 'devices');
    expect(cloud.devices[0]?.online).toBe(true);
  });

  it('answers 503 while down and for injected failures, recording every call with its status', async () => {
    const { api, cloud } = await start();
    cloud.setDown(true);
    expect((await api('GET', 'devices')).status).toBe(503);
    cloud.setDown(false);
    cloud.failNext({ method: 'GET', path: /^api\/v2\/devices$/, status: 500 });
    expect((await api('GET', 'devices')).status).toBe(500);
    expect((await api('GET', 'devices')).status).toBe(200);
    expect(cloud.callsTo('GET', 'api/v2/devices').map((c) => c.status)).toEqual([503, 500, 200]);
    expect(cloud.calls[0]).toMatchObject({
      method: 'POST',
      path: 'oauth/token',
      body: { grant_type: 'password' },
    });
  });

  it('refuses a session on a locked device and a second release', async () => {
    const { api } = await start();
    const session = (await api('POST', 'me/device-sessions', { deviceModelId: '3', timeout: '60' })).body as {
      id: number;
    };
    expect((await api('POST', 'me/device-sessions', { deviceModelId: '3', timeout: '60' })).status).toBe(400);
    expect((await api('POST', `me/device-sessions/${session.id}/release`, {})).status).toBe(204);
    expect((await api('POST', `me/device-sessions/${session.id}/release`, {})).status).toBe(400);
  });
});
