// The testdroid-proxy IMAGE against the simulated Testdroid cloud: the simulator listens on this
// machine, reached from a test-created Docker network through that network's gateway; the proxy
// joins the network as `testdroid`; a second container uses it the way a task does.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulatedCloud, type SimulatedCloud } from '@docker-worker/testdroid-proxy/testing';
import { demux, docker, labels, newSession, removeByLabel, runToEnd, TEST_LABEL } from './docker.js';

const IMAGE = 'docker-worker/testdroid-proxy:latest';
const NODE = 'node:20-bookworm-slim';
const PASSWORD = 'e2e-testdroid-password';
const ACCESS_TOKEN = 'e2e-worker-access-token-0123456789';
const BUILD = 'https://queue.example/api/queue/v1/task/T1/artifacts/private/build/b2g.zip';
const session = newSession();
let networkId = '';
let gateway = '';

/** Starts the proxy image on the network as `testdroid`; returns its container. */
async function startProxy(name: string, cloudUrl: string) {
  const container = await docker.createContainer({
    Image: IMAGE,
    name: `dw-testdroid-${name}-${session}`,
    // Short polling intervals (defaults: 10 s flash, 5 s proxies) so the flows run in seconds.
    Cmd: [
      '--cloud-url',
      cloudUrl,
      '--device-timeout',
      '600',
      '--flash-poll-ms',
      '100',
      '--proxy-poll-ms',
      '100',
    ],
    Env: [
      'TESTDROID_USERNAME=e2e@example.com',
      `TESTDROID_PASSWORD=${PASSWORD}`,
      'TASKCLUSTER_CLIENT_ID=worker/e2e',
      `TASKCLUSTER_ACCESS_TOKEN=${ACCESS_TOKEN}`,
    ],
    Labels: labels(session),
    HostConfig: { NetworkMode: networkId },
    NetworkingConfig: { EndpointsConfig: { [networkId]: { Aliases: ['testdroid'] } } },
  });
  await container.start();
  return container;
}

/** Runs a node script in a throwaway container on the network; returns its JSON output. */
async function asTask(script: string): Promise<Record<string, unknown>> {
  const prelude = `
    const call = async (method, path, body) => {
      const r = await fetch('http://testdroid' + path, { method, headers: { 'content-type': 'application/json' }, body: body && JSON.stringify(body) });
      const text = await r.text();
      let json; try { json = JSON.parse(text); } catch {}
      return { status: r.status, text, json };
    };
    const until = Date.now() + 30000;
    const ready = async () => { for (;;) { try { if ((await fetch('http://testdroid/')).ok) return; } catch (e) { if (Date.now() > until) throw e; } await new Promise((r) => setTimeout(r, 200)); } };
  `;
  const { exitCode, output } = await runToEnd({
    image: NODE,
    cmd: [
      'node',
      '-e',
      `${prelude}(async () => { await ready(); ${script} })().catch((e) => { console.error(String(e)); process.exit(1); });`,
    ],
    session,
    network: networkId,
  });
  expect(exitCode, output).toBe(0);
  return JSON.parse(output.trim().split('\n').at(-1) ?? '{}') as Record<string, unknown>;
}

async function logsOf(container: Awaited<ReturnType<typeof startProxy>>): Promise<string> {
  return demux((await container.logs({ stdout: true, stderr: true })) as unknown as Buffer);
}

describe('testdroid-proxy image', () => {
  let cloud: SimulatedCloud;

  beforeAll(async () => {
    const network = await docker.createNetwork({ Name: `dw-testdroid-${session}`, Labels: labels(session) });
    networkId = network.id;
    const info = (await network.inspect()) as { IPAM: { Config: { Gateway?: string }[] } };
    gateway = info.IPAM.Config[0]?.Gateway ?? '';
    expect(gateway).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    cloud = await startSimulatedCloud({
      host: '0.0.0.0',
      username: 'e2e@example.com',
      password: PASSWORD,
      devices: [
        { id: 1, type: 'flame', sims: '1', memory: '319', build: BUILD },
        { id: 2, type: 'flame', sims: '2', memory: '512', build: 'https://old.example/b2g.zip' },
      ],
      flash: { waitingMs: 300, runningMs: 300 },
      proxyDelayPolls: 1,
    });
  });

  afterAll(async () => {
    await cloud?.close();
    await removeByLabel(session);
    const filters = JSON.stringify({ label: [`${TEST_LABEL}=${session}`] });
    expect([
      ...(await docker.listContainers({ all: true, filters })),
      ...(await docker.listNetworks({ filters })),
    ]).toHaveLength(0);
  });

  it('gives a task a device session with proxies and properties, and releases it', async () => {
    const proxy = await startProxy('session', `http://${gateway}:${cloud.port}/`);
    const out = await asTask(`
      const device = await call('POST', '/device', { type: 'flame', memory: '319', build: '${BUILD}', sims: '1' });
      const properties = await call('GET', '/device/properties');
      const release = await call('POST', '/device/release');
      const again = await call('POST', '/device/release');
      console.log(JSON.stringify({ device, properties, release, again }));
    `);
    expect(out.device).toMatchObject({
      status: 200,
      json: {
        device: { id: 1 },
        proxyHost: '10.1.2.9',
        proxies: { adb: { type: 'adb' }, marionette: { type: 'marionette' } },
      },
    });
    expect(out.properties).toMatchObject({
      status: 200,
      json: { codename: 'flame', sims: '1', build_identifier: `319_${BUILD}` },
    });
    expect(out.release).toMatchObject({ status: 200, text: 'Device released' });
    expect(out.again).toMatchObject({ status: 200, text: 'No device session to release' });
    expect(cloud.sessions).toEqual([
      expect.objectContaining({ deviceId: 1, timeoutSec: 600, state: 'released' }),
    ]);
    const logs = await logsOf(proxy);
    expect(logs).toContain('"msg":"device session released"');
    expect(logs).not.toContain(PASSWORD);
    expect(logs).not.toContain(ACCESS_TOKEN);
    await proxy.remove({ force: true });
  });

  it('flashes a device when none runs the build, then gives a session on it', async () => {
    const proxy = await startProxy('flash', `http://${gateway}:${cloud.port}/`);
    const out = await asTask(`
      const device = await call('POST', '/device', { type: 'flame', memory: '1024', build: '${BUILD}', sims: '2' });
      const release = await call('POST', '/device/release');
      console.log(JSON.stringify({ device, release }));
    `);
    expect(out.device).toMatchObject({ status: 200, json: { device: { id: 2 } } });
    const run = cloud.runs.at(-1);
    expect(run?.deviceIds).toEqual([2]);
    const param = (key: string) => run?.parameters.find((p) => p.key === key)?.value;
    expect(param('FLAME_ZIP_URL')).toMatch(
      new RegExp(`^${BUILD.replace(/[.?/]/g, '\\$&')}\\?bewit=[\\w-]+$`),
    );
    expect([param('MEM_TOTAL'), param('BUILD_LABEL')]).toEqual(['1024', `1024_${BUILD}`]);
    expect(cloud.activeSessions()).toHaveLength(0);
    await proxy.remove({ force: true });
  });

  it('answers a clear error when the cloud is down', async () => {
    const down = await startSimulatedCloud({ host: '0.0.0.0' });
    const port = down.port;
    await down.close(); // nothing listens there any more
    const proxy = await startProxy('down', `http://${gateway}:${port}/`);
    const out = await asTask(`
      const device = await call('POST', '/device', { type: 'flame', memory: '319', build: '${BUILD}' });
      console.log(JSON.stringify({ device }));
    `);
    expect(out.device).toMatchObject({
      status: 500,
      json: {
        statusCode: 500,
        message: `Testdroid cloud at http://${gateway}:${port}/ is unreachable (POST oauth/token, 4 attempts): ECONNREFUSED`,
      },
    });
    const logs = await logsOf(proxy);
    for (const secret of [PASSWORD, ACCESS_TOKEN]) {
      expect(logs).not.toContain(secret);
      expect(JSON.stringify(out)).not.toContain(secret);
    }
    await proxy.remove({ force: true });
  });
});
