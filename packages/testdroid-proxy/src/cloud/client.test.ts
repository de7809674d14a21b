import { afterEach, describe, expect, it } from 'vitest';
import { startSimulatedCloud, type SimulatedCloud } from '../testing/simulated-cloud.js';
import { CloudError } from './cloud-error.js';
import { TestdroidClient } from './client.js';
import { findDevices } from './find-devices.js';

const USER = 'ci@example.com';
const PASSWORD = 'p4ssw0rd-secret';
const clouds: SimulatedCloud[] = [];
afterEach(async () => {
  await Promise.all(clouds.splice(0).map((c) => c.close()));
});

async function setup(opts: Parameters<typeof startSimulatedCloud>[0] = {}) {
  const now = { t: 1_000_000 };
  const cloud = await startSimulatedCloud({
    username: USER,
    password: PASSWORD,
    now: () => now.t,
    devices: [
      { id: 1, type: 'flame', sims: '1', memory: '319', build: 'https://b/1.zip' },
      { id: 2, type: 'flame', sims: '2', memory: '1024', build: 'https://b/2.zip', online: false },
      { id: 3, type: 'aries', sims: '1', memory: '2048', build: 'https://b/3.zip' },
    ],
    ...opts,
  });
  clouds.push(cloud);
  const sleeps: number[] = [];
  const client = new TestdroidClient({
    cloudUrl: cloud.url,
    username: USER,
    password: PASSWORD,
    now: () => now.t,
    sleep: async (ms) => void sleeps.push(ms),
  });
  return { cloud, client, now, sleeps };
}

describe('TestdroidClient', () => {
  it('logs in with the password grant once and sends the Bearer token', async () => {
    const { cloud, client } = await setup();
    expect((await client.getDevices()).map((d) => d.id)).toEqual([1, 2, 3]);
    await client.getDevices();
    const logins = cloud.callsTo('POST', 'oauth/token');
    expect(logins).toHaveLength(1);
    expect(logins[0]?.body).toMatchObject({
      client_id: 'testdroid-cloud-api',
      grant_type: 'password',
      username: USER,
    });
    expect(cloud.callsTo('GET', 'api/v2/devices').every((c) => c.status === 200)).toBe(true);
  });

  it('refreshes the token when less than 60 s are left, and logs in again when the refresh token is refused', async () => {
    const { cloud, client, now } = await setup({ tokenTtlSec: 120 });
    await client.getDevices();
    now.t += 61_000; // 59 s left
    await client.getDevices();
    const grants = cloud.callsTo('POST', 'oauth/token').map((c) => c.body.grant_type);
    expect(grants).toEqual(['password', 'refresh_token']);
  });

  it('recovers from a 401 on an expired access token with one refresh and one retry', async () => {
    const { cloud, client } = await setup();
    await client.getDevices();
    cloud.expireAccessTokens();
    expect(await client.getDevices()).toHaveLength(3);
    expect(cloud.callsTo('GET', 'api/v2/devices').map((c) => c.status)).toEqual([200, 401, 200]);
    expect(cloud.callsTo('POST', 'oauth/token').map((c) => c.body.grant_type)).toEqual([
      'password',
      'refresh_token',
    ]);
  });

  it('retries 5xx answers with exponential backoff, then succeeds', async () => {
    const { cloud, client, sleeps } = await setup();
    cloud.failNext({ path: 'api/v2/devices', status: 503, times: 2 });
    expect(await client.getDevices()).toHaveLength(3);
    expect(sleeps).toEqual([500, 1000]);
    expect(cloud.callsTo('GET', 'api/v2/devices').map((c) => c.status)).toEqual([503, 503, 200]);
  });

  it('gives up after the bounded retries with a clear error naming the call and status', async () => {
    const { cloud, client, sleeps } = await setup();
    cloud.failNext({ path: 'api/v2/devices', status: 502, times: 10 });
    const err = await client.getDevices().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CloudError);
    expect((err as CloudError).status).toBe(502);
    expect((err as Error).message).toMatch(/^Testdroid cloud answered GET devices with 502 Bad Gateway/);
    expect(sleeps).toHaveLength(3);
  });

  it('does not retry a POST that creates something: a 5xx is thrown at once as unsure, naming the call', async () => {
    const { cloud, client, sleeps } = await setup();
    cloud.failNext({ method: 'POST', path: 'api/v2/runs', status: 500, applied: true });
    const err = await client.createRun(7001).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CloudError);
    expect(err).toMatchObject({ status: 500, unsure: true });
    expect((err as Error).message).toBe(
      'Testdroid cloud answered POST runs with 500 Internal Server Error: Simulated failure (not retried: POST runs is not safe to repeat, and the cloud may have done it)',
    );
    expect(sleeps).toEqual([]);
    expect(cloud.callsTo('POST', 'api/v2/runs').map((c) => c.status)).toEqual([500]);
    expect(cloud.runs).toHaveLength(1); // the cloud did create it: one run, not two
  });

  it('retries the POSTs that are safe to repeat (release, abort) and the login', async () => {
    const { cloud, client } = await setup();
    cloud.failNext({ method: 'POST', path: 'oauth/token', status: 503 });
    const session = await client.startDeviceSession(1, 60);
    cloud.failNext({ method: 'POST', path: /release$/, status: 503 });
    await client.releaseDeviceSession(session.id);
    expect(cloud.callsTo('POST', 'oauth/token').map((c) => c.status)).toEqual([503, 200]);
    expect(cloud.callsTo('POST', /release$/).map((c) => c.status)).toEqual([503, 204]);
    expect(cloud.activeSessions()).toHaveLength(0);
  });

  it('does not retry 4xx answers', async () => {
    const { cloud, client, sleeps } = await setup();
    const err = await client.getDeviceProperties(999).catch((e: unknown) => e);
    expect((err as Error).message).toBe(
      'Testdroid cloud answered GET devices/999/properties with 404 Not Found: Device 999 not found',
    );
    expect(sleeps).toEqual([]);
    expect(cloud.callsTo('GET', 'api/v2/devices/999/properties')).toHaveLength(1);
  });

  it('says the login was refused without repeating the password', async () => {
    const { client } = await setup();
    const bad = new TestdroidClient({
      cloudUrl: clouds[0]!.url,
      username: USER,
      password: 'wrong-password-123',
    });
    const err = (await bad.getDevices().catch((e: unknown) => e)) as Error;
    expect(err.message).toBe(
      `Testdroid cloud refused the login of user "${USER}" (400 invalid_grant: Bad credentials); check the username and password`,
    );
    expect(err.message).not.toContain('wrong-password-123');
    expect(await client.getDevices()).toHaveLength(3);
  });

  it('reports an unreachable cloud after retrying, without credentials in the message', async () => {
    const { cloud } = await setup();
    const url = cloud.url;
    await cloud.close();
    const sleeps: number[] = [];
    const client = new TestdroidClient({
      cloudUrl: url.replace('http://', `http://${USER.replace('@', '%40')}:${PASSWORD}@`),
      username: USER,
      password: PASSWORD,
      retries: 2,
      sleep: async (ms) => void sleeps.push(ms),
    });
    const err = (await client.getDevices().catch((e: unknown) => e)) as CloudError;
    expect(err).toBeInstanceOf(CloudError);
    expect(err.status).toBeUndefined();
    expect(err.message).toMatch(
      /^Testdroid cloud at http:\/\/127\.0\.0\.1:\d+\/ is unreachable \(POST oauth\/token, 3 attempts\): ECONNREFUSED$/,
    );
    expect(err.message).not.toContain(PASSWORD);
    expect(sleeps).toEqual([500, 1000]);
  });

  it('encodes label filters as one comma-joined label_id[] parameter', async () => {
    const { cloud, client } = await setup();
    const devices = await findDevices(client, { type: 'flame', sims: '1' });
    expect(devices.map((d) => d.id)).toEqual([1]);
    const call = cloud.callsTo('GET', 'api/v2/devices')[0];
    const codename = cloud.state.labelId(25, 'flame');
    const sims = cloud.state.labelId(73, '1');
    expect(call?.query).toEqual({ limit: '0', 'label_id[]': `${codename},${sims}` });
  });

  it('collapses memory and build into one Build Identifier label', async () => {
    const { client, cloud } = await setup();
    expect(
      (await findDevices(client, { type: 'flame', memory: '319', build: 'https://b/1.zip' })).map(
        (d) => d.id,
      ),
    ).toEqual([1]);
    const labelSearches = cloud
      .callsTo('GET', /^api\/v2\/label-groups\/\d+\/labels$/)
      .map((c) => c.query.search);
    expect(labelSearches).toEqual(['flame', '319_https://b/1.zip']);
  });

  it('finds no device for an unknown label or capability, without querying devices', async () => {
    const { client, cloud } = await setup();
    expect(await findDevices(client, { type: 'nexus' })).toEqual([]);
    expect(await findDevices(client, { colour: 'red' })).toEqual([]);
    expect(cloud.callsTo('GET', 'api/v2/devices')).toHaveLength(0);
  });

  it('starts and releases sessions, sending form-encoded bodies', async () => {
    const { client, cloud } = await setup();
    const session = await client.startDeviceSession(1, 3600);
    expect(session.device.id).toBe(1);
    expect(cloud.callsTo('POST', 'api/v2/me/device-sessions')[0]?.body).toEqual({
      deviceModelId: '1',
      timeout: '3600',
    });
    expect(cloud.activeSessions()).toHaveLength(1);
    await client.releaseDeviceSession(session.id);
    expect(cloud.activeSessions()).toHaveLength(0);
    await expect(client.startDeviceSession(2, 60)).rejects.toThrow(
      /400 Bad Request: Device 2 is not available/,
    );
  });

  it('reads proxies as a bare array filtered by a JSON where parameter', async () => {
    const { client, cloud } = await setup();
    const session = await client.startDeviceSession(1, 60);
    const [adb] = await client.getProxies('adb', session.id);
    expect(adb).toMatchObject({ type: 'adb', sessionId: session.id, host: '10.1.2.9' });
    expect(cloud.callsTo('GET', 'api/v2/proxy-plugin/proxies')[0]?.query.where).toBe(
      `{"type":"adb","sessionId":${session.id}}`,
    );
  });
});
