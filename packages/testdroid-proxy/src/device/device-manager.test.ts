import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { TestdroidClient } from '../cloud/client.js';
import { FastClock } from '../testing/fast-clock.js';
import { startSimulatedCloud, type SimulatedCloud } from '../testing/simulated-cloud.js';
import { DeviceManager } from './device-manager.js';

const BUILD = 'https://queue.example/b2g.zip';
const request = { type: 'flame', memory: '319', build: BUILD };
const clouds: SimulatedCloud[] = [];
afterEach(async () => {
  await Promise.all(clouds.splice(0).map((c) => c.close()));
});

async function setup(proxyDelayPolls = 0) {
  const clock = new FastClock();
  const cloud = await startSimulatedCloud({
    now: clock.now,
    proxyDelayPolls,
    devices: [{ id: 4, type: 'flame', memory: '319', build: BUILD }],
  });
  clouds.push(cloud);
  const client = new TestdroidClient({
    ...cloud.login,
    now: clock.now,
  });
  const manager = new DeviceManager({
    cloud: client,
    log: pino({ level: 'silent' }),
    clock,
    credentials: { clientId: 'w', accessToken: 't', authorizedScopes: [] },
    deviceTimeoutSec: 60,
    proxyHost: '10.1.2.9',
  });
  return { cloud, client, manager };
}

describe('DeviceManager', () => {
  it('refuses a second request while one is being acquired', async () => {
    const { manager, cloud } = await setup(3);
    const first = manager.acquire(request);
    expect(() => manager.acquire(request)).toThrow(
      'A device is already being acquired; wait for it (GET /device) or POST /device/release first',
    );
    await first;
    expect(manager.status()).toMatchObject({ state: 'ready', device: { id: 4 } });
    expect(await manager.release()).toBe('released');
    expect(cloud.activeSessions()).toHaveLength(0);
  });

  it('gives back a session that the flow finished with just as release was called', async () => {
    const { manager, client, cloud } = await setup();
    const getProxies = client.getProxies.bind(client);
    let calls = 0;
    client.getProxies = async (type, id) => {
      const got = await getProxies(type, id);
      if (++calls === 2) void manager.release(); // the marionette proxy arrives, then the release
      return got;
    };
    await expect(manager.acquire(request)).rejects.toThrow(
      'The device request was cancelled by POST /device/release',
    );
    expect(manager.status()).toEqual({ state: 'idle' });
    expect(cloud.sessions).toHaveLength(1);
    expect(cloud.activeSessions()).toHaveLength(0);
  });
});
