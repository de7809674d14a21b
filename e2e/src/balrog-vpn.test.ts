// The balrog VPN proxy image against a real OpenVPN server: a client on network B reaches the fake
// balrog on the --internal network A only through the proxy's tunnel; the fake balrog sees the VPN
// client's tunnel address; the proxy's input checks fail with one line each; losing the VPN server
// gives a clear 503 and openvpn dying makes the container exit non-zero.
import { cpSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildImage, demux, docker, labels, newSession, runToEnd, TEST_LABEL } from './docker.js';
import type { VpnTopology } from './balrog-vpn-topology.js';
import {
  BALROG_HOST,
  buildTestImages,
  execIn,
  fetchScript,
  NODE_IMAGE,
  PROXY_IMAGE,
  runOnce,
  startVpnTopology,
} from './balrog-vpn-topology.js';

const session = newSession();
let topo: VpnTopology;
let proxy: Docker.Container;
const TUN = { PathOnHost: '/dev/net/tun', PathInContainer: '/dev/net/tun', CgroupPermissions: 'rwm' };

interface Answer {
  status: number;
  body: string;
}

/** Runs the requests from a fresh container on network B; one answer per request. */
async function fromNetworkB(
  requests: Array<{ url: string; headers?: Record<string, string> }>,
): Promise<Answer[]> {
  const { exitCode, output } = await runToEnd({
    image: NODE_IMAGE,
    cmd: ['node', '-e', fetchScript(requests)],
    session,
    network: topo.networkB,
  });
  expect(exitCode, output).toBe(0);
  return output
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Answer);
}

async function logsOf(c: Docker.Container): Promise<string> {
  return demux((await c.logs({ stdout: true, stderr: true, follow: false })) as unknown as Buffer);
}

// The tests before "Last:" leave the tunnel up and use separate containers: they run concurrently
// (vitest runs consecutive it.concurrent tests together, and the later plain tests after them).
describe('balrog-vpn-proxy image through a real OpenVPN tunnel', () => {
  beforeAll(async () => {
    buildTestImages();
    topo = await startVpnTopology(session);
    // No --device here: the entrypoint creates /dev/net/tun itself (Docker's default device
    // rules allow c 10:200); the worker's feature passes the device explicitly.
    proxy = await docker.createContainer({
      Image: PROXY_IMAGE,
      name: `dw-balrog-proxy-${session}`,
      Labels: labels(session),
      Env: [`PROXIED_SERVER=http://${BALROG_HOST}`, 'TUNNEL_TIMEOUT=90'],
      HostConfig: {
        NetworkMode: topo.networkB,
        CapAdd: ['NET_ADMIN'],
        Binds: [`${topo.clientDir}:/vpn:ro`],
        ExtraHosts: topo.extraHosts,
      },
      NetworkingConfig: { EndpointsConfig: { [topo.networkB]: { Aliases: ['balrog'] } } },
    });
    await proxy.start();
  });

  afterAll(async () => {
    await topo?.dispose();
    const left = await docker.listContainers({
      all: true,
      filters: JSON.stringify({ label: [`${TEST_LABEL}=${session}`] }),
    });
    const nets = await docker.listNetworks({
      filters: JSON.stringify({ label: [`${TEST_LABEL}=${session}`] }),
    });
    expect([...left, ...nets]).toHaveLength(0);
    expect(topo && existsSync(topo.keysDir)).toBe(false);
  });

  it.concurrent('answers 401 without credentials and echoes with them, from the tunnel address', async () => {
    const [anon, authed] = await fromNetworkB([
      { url: 'http://balrog/api/rules?product=Firefox' },
      { url: 'http://balrog/api/rules?product=Firefox', headers: { authorization: 'Bearer test-token' } },
    ]);
    const tun = await execIn(proxy, ['ip', '-4', '-o', 'addr', 'show', 'dev', 'tun0']);
    const tunnelIp = /inet (\d+\.\d+\.\d+\.\d+)\//.exec(tun)?.[1];
    expect(tunnelIp, tun).toBeDefined();
    expect(tunnelIp?.startsWith(topo.vpnSubnet.split('.').slice(0, 3).join('.'))).toBe(true);

    expect(anon?.status).toBe(401);
    expect(JSON.parse(anon?.body ?? '')).toEqual({
      balrog: 'fake',
      error: 'Unauthorized',
      remoteAddress: tunnelIp,
    });

    expect(authed?.status).toBe(200);
    const echo = JSON.parse(authed?.body ?? '') as {
      method: string;
      url: string;
      headers: Record<string, string>;
      remoteAddress: string;
    };
    expect(echo.method).toBe('GET');
    expect(echo.url).toBe('/api/rules?product=Firefox');
    expect(echo.remoteAddress).toBe(tunnelIp);
    expect(echo.headers.host).toBe(BALROG_HOST);
    expect(echo.headers['x-forwarded-host']).toBe('balrog');
    expect(echo.headers['x-forwarded-for']).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(echo.headers['x-real-ip']).toBe(echo.headers['x-forwarded-for']);
    expect(await logsOf(proxy)).toContain('created the tun device');
  });

  it.concurrent('reports a healthy tunnel and a reachable upstream on /__vpn/health', async () => {
    const [health] = await fromNetworkB([{ url: 'http://balrog/__vpn/health' }]);
    expect(health?.status).toBe(200);
    expect(JSON.parse(health?.body ?? '')).toEqual({
      ok: true,
      tunnel: { up: true, state: 'connected' },
      upstream: { url: `http://${BALROG_HOST}`, reachable: true, status: 401 },
    });
  });

  it.concurrent('cannot reach the fake balrog directly from network B', async () => {
    const script = `fetch('http://${topo.balrogIp}/', { signal: AbortSignal.timeout(3000) })
      .then((r) => { console.log('reached ' + r.status); process.exit(0); }, (e) => { console.log('unreachable: ' + e.name); process.exit(3); })`;
    const { exitCode, output } = await runToEnd({
      image: NODE_IMAGE,
      cmd: ['node', '-e', script],
      session,
      network: topo.networkB,
    });
    expect(output.trim()).toBe('unreachable: TimeoutError');
    expect(exitCode).toBe(3);
  });

  it.concurrent.each([
    [
      'no PROXIED_SERVER',
      [],
      [],
      'balrog-vpn-proxy: Environment variable PROXIED_SERVER must be set (the upstream URL, e.g. https://aus4-admin.mozilla.org).',
    ],
    [
      'a PROXIED_SERVER that is not a URL',
      ['PROXIED_SERVER=balrog.example'],
      [],
      'balrog-vpn-proxy: PROXIED_SERVER is not a URL: "balrog.example"; set it to the upstream URL, e.g. https://aus4-admin.mozilla.org.',
    ],
    [
      'no VPN configuration in /vpn',
      ['PROXIED_SERVER=http://balrog.example'],
      [],
      'balrog-vpn-proxy: No VPN configuration found in /vpn: expected an OpenVPN client file (*.conf or *.ovpn) there with its keys and certificates.',
    ],
    [
      'a missing config directory',
      ['PROXIED_SERVER=http://balrog.example', 'VPN_CONFIG_DIR=/etc/vpn'],
      [],
      'balrog-vpn-proxy: No VPN configuration: the directory /etc/vpn does not exist; mount your VPN directory there (read-only) or build an image with it (COPY vpn/ /etc/vpn/).',
    ],
    [
      'no NET_ADMIN',
      ['PROXIED_SERVER=http://balrog.example'],
      ['CLIENT_DIR:/vpn:ro'],
      'balrog-vpn-proxy: Missing capability NET_ADMIN, which openvpn needs for the tun device and its routes; run the container with --cap-add NET_ADMIN.',
    ],
  ])('refuses to start with %s, in one line', async (_what, env, binds, line) => {
    const { exitCode, output } = await runOnce(
      session,
      PROXY_IMAGE,
      undefined,
      binds.map((b) => b.replace('CLIENT_DIR', topo.clientDir)),
      { Env: env, HostConfig: { NetworkMode: 'none' } },
    );
    expect(output).toBe(`${line}\n`);
    expect(exitCode).toBe(64); // a usage error
  });

  it.concurrent(
    'works as a derived image with the VPN directory baked in (FROM + COPY vpn/ /vpn/), and stops on SIGTERM',
    async () => {
      const ctx = mkdtempSync(join(tmpdir(), 'dw-balrog-derived-'));
      const tag = `docker-worker-test/balrog-baked:${session}`;
      try {
        cpSync(topo.clientDir, join(ctx, 'vpn'), { recursive: true });
        writeFileSync(join(ctx, 'Dockerfile'), `FROM ${PROXY_IMAGE}\nCOPY vpn/ /vpn/\n`);
        buildImage({ tag, labels: { [TEST_LABEL]: session }, context: ctx });
        const baked = await docker.createContainer({
          Image: tag,
          Labels: labels(session),
          Env: [`PROXIED_SERVER=http://${BALROG_HOST}`],
          HostConfig: {
            NetworkMode: topo.networkB,
            CapAdd: ['NET_ADMIN'],
            Devices: [TUN],
            ExtraHosts: topo.extraHosts,
          },
          NetworkingConfig: { EndpointsConfig: { [topo.networkB]: { Aliases: ['balrog-baked'] } } },
        });
        await baked.start();
        const [answer] = await fromNetworkB([
          { url: 'http://balrog-baked/api/x', headers: { authorization: 'Bearer t' } },
        ]);
        expect(answer?.status).toBe(200);
        expect(JSON.parse(answer?.body ?? '')).toMatchObject({ balrog: 'fake', url: '/api/x' });
        // docker stop (SIGTERM): openvpn is stopped and the proxy exits 0, without the SIGKILL.
        await baked.stop({ t: 30 });
        expect((await baked.inspect()).State.ExitCode).toBe(0);
        expect(await logsOf(baked)).toContain('"msg":"stopping"');
        await baked.remove({ force: true });
      } finally {
        rmSync(ctx, { recursive: true, force: true });
        await docker
          .getImage(tag)
          .remove({ force: true })
          .catch(() => undefined);
      }
    },
  );

  // Last: these break the tunnel for good.
  it('answers 503 with the reason once the VPN server stops', async () => {
    await topo.vpnServer.stop({ t: 2 });
    const script = `
      const until = Date.now() + 60000;
      (async () => {
        for (;;) {
          const r = await fetch('http://balrog/api/rules', { signal: AbortSignal.timeout(10000) }).catch((e) => ({ status: 0, text: async () => String(e) }));
          const body = await r.text();
          if (r.status === 503 || Date.now() > until) { console.log(JSON.stringify({ status: r.status, body })); break; }
          await new Promise((ok) => setTimeout(ok, 250));
        }
        const h = await fetch('http://balrog/__vpn/health');
        console.log(JSON.stringify({ status: h.status, body: await h.text() }));
      })();`;
    const { output } = await runToEnd({
      image: NODE_IMAGE,
      cmd: ['node', '-e', script],
      session,
      network: topo.networkB,
    });
    const [answer, health] = output
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Answer);
    expect(answer?.status).toBe(503);
    expect(answer?.body, answer?.body).toMatch(
      new RegExp(
        `^balrog-vpn-proxy: the VPN tunnel (is|went) down \\(reconnecting \\([a-z-]+\\)\\); cannot reach http://${BALROG_HOST.replace('.', '\\.')}\\n$`,
      ),
    );
    expect(health?.status).toBe(503);
    expect(JSON.parse(health?.body ?? '')).toMatchObject({ ok: false, tunnel: { up: false } });
  });

  it('exits non-zero when openvpn dies', async () => {
    await execIn(proxy, ['sh', '-c', 'kill $(pidof openvpn)']);
    const { StatusCode } = (await proxy.wait()) as { StatusCode: number };
    expect(StatusCode).toBe(1); // a runtime failure
    const logs = await logsOf(proxy);
    expect(logs).toMatch(/openvpn exited with code \d+; the VPN tunnel is gone, exiting/);
    // the whole life of the proxy: openvpn's lines are in its log, the VPN's private key is not
    expect(logs).toContain('openvpn: ');
    expect(logs).not.toContain(topo.clientKeyLine);
  });
});
