// The balrogVPNProxy feature through the runner (library, real engine, real clock): a task with the
// scope reaches the fake balrog at http://balrog through a real OpenVPN tunnel, has no NET_ADMIN
// itself and cannot reach balrog's network directly; without the scope it is malformed-payload;
// the VPN server stopping mid-task gives the task a clear 503.
//
// The VPN server stands in for a server on the internet: a DockerClient decorator attaches it to
// each task network the runner creates (alias vpn-server) and detaches it before the runner
// removes that network.
import { createDockerClient } from '@docker-worker/runner';
import type { DockerClient, LocalRunResult } from '@docker-worker/runner';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demux, docker, newSession } from './docker.js';
import { printed, runInProcess, workerLeftovers } from './runner-harness.js';
import type { VpnTopology } from './balrog-vpn-topology.js';
import { BALROG_HOST, buildTestImages, startVpnTopology } from './balrog-vpn-topology.js';

const session = newSession();
const workerId = `e2e-balrog-${session}`;
const SCOPE = 'docker-worker:feature:balrogVPNProxy';
let topo: VpnTopology;
let workDir: string;

function vpnServerOnTaskNetworks(inner: DockerClient, vpnServerId: string): DockerClient {
  return {
    ...inner,
    async createNetwork(name, labels) {
      const net = await inner.createNetwork(name, labels);
      await docker
        .getNetwork(net.id)
        .connect({ Container: vpnServerId, EndpointConfig: { Aliases: ['vpn-server'] } });
      return net;
    },
    async remove(resource) {
      if (resource.kind === 'network')
        await docker
          .getNetwork(resource.id)
          .disconnect({ Container: vpnServerId, Force: true })
          .catch(() => undefined);
      return inner.remove(resource);
    },
  };
}

async function runTask(
  task: object,
  onLog?: (log: string) => void,
): Promise<LocalRunResult & { log: string }> {
  const r = await runInProcess({
    task,
    workerId,
    workDir,
    config: {
      balrog: {
        vpnConfigDir: topo.clientDir,
        proxiedServer: `http://${BALROG_HOST}`,
        extraHosts: topo.extraHosts,
        probe: { attempts: 30, intervalMs: 500 },
      },
    },
    docker: vpnServerOnTaskNetworks(createDockerClient(), topo.vpnServer.id),
    ...(onLog ? { onLog } : {}),
  });
  // the sidecar's lines are in the task log; the VPN's private key never is
  expect(r.log).not.toContain(topo.clientKeyLine);
  return r;
}

const task = (script: string, scopes: string[] = [SCOPE]) => ({
  scopes,
  payload: {
    image: 'node:20-bookworm-slim',
    maxRunTime: 180,
    features: { balrogVPNProxy: true },
    command: ['node', '-e', script],
  },
});

describe('balrogVPNProxy through the runner', () => {
  beforeAll(async () => {
    buildTestImages();
    topo = await startVpnTopology(session);
    workDir = mkdtempSync(join(tmpdir(), 'dw-balrog-runner-'));
  });

  afterAll(async () => {
    await topo?.dispose();
    rmSync(workDir, { recursive: true, force: true });
    expect(await workerLeftovers(workerId)).toEqual({ containers: 0, networks: 0 });
    expect(topo && existsSync(topo.keysDir)).toBe(false);
  });

  it('gives a task with the scope http://balrog through the tunnel, and nothing more', async () => {
    const script = `
      const out = (k, v) => console.log(k + ' ' + JSON.stringify(v));
      (async () => {
        out('CAPEFF', /CapEff:\\s*(\\w+)/.exec(require('fs').readFileSync('/proc/self/status', 'utf8'))[1]);
        // the direct attempt waits out its 3 s timeout while the proxied requests run
        const direct = fetch('http://${topo.balrogIp}/', { signal: AbortSignal.timeout(3000) }).then(() => 'reached', (e) => e.name);
        for (const headers of [{}, { authorization: 'Bearer task-token' }]) {
          const r = await fetch('http://balrog/api/rules?product=Firefox', { headers });
          out('ANSWER', { status: r.status, body: await r.json() });
        }
        out('DIRECT', await direct);
      })();`;
    const r = await runTask(task(script));
    expect(r, r.log).toMatchObject({ state: 'completed', exitCode: 0 });
    const tunnelAddress = /primary virtual IP for [^:]+:\d+: (\d+\.\d+\.\d+\.\d+)/.exec(
      await vpnServerLog(),
    )?.[1];
    const [anon, authed] = printed(r.log, 'ANSWER') as Array<{
      status: number;
      body: { remoteAddress: string; url?: string; headers?: Record<string, string> };
    }>;
    expect(anon?.status).toBe(401);
    expect(authed?.status).toBe(200);
    expect(authed?.body.url).toBe('/api/rules?product=Firefox');
    expect(authed?.body.headers?.host).toBe(BALROG_HOST);
    // The fake balrog saw the VPN client's tunnel address (inside the VPN subnet), not a Docker one.
    expect(tunnelAddress?.startsWith(topo.vpnSubnet.split('.').slice(0, 3).join('.'))).toBe(true);
    expect(anon?.body.remoteAddress).toBe(tunnelAddress);
    expect(authed?.body.remoteAddress).toBe(tunnelAddress);
    // NET_ADMIN (bit 12) went to the sidecar only; the task cannot reach balrog's network itself.
    const [capEff] = printed(r.log, 'CAPEFF') as string[];
    expect((BigInt(`0x${capEff}`) >> 12n) & 1n).toBe(0n);
    expect(printed(r.log, 'DIRECT')).toEqual(['TimeoutError']);
    expect(r.log).toContain('[balrog] ');
  });

  it('refuses the feature without the scope: malformed-payload naming it', async () => {
    const r = await runTask(task('console.log("should not run")', []));
    expect(r).toMatchObject({ state: 'exception', reasonResolved: 'malformed-payload' });
    expect(r.error?.message).toBe(
      `Insufficient scopes to use 'balrogVPNProxy'. Try adding ${SCOPE} to the .scopes array of the task.`,
    );
    expect(r.log).not.toContain('should not run');
  });

  it('gives the task a clear 503 when the VPN server stops mid-task', async () => {
    const script = `
      const until = Date.now() + 90000;
      (async () => {
        for (;;) {
          const r = await fetch('http://balrog/api/rules', { signal: AbortSignal.timeout(10000) }).catch((e) => ({ status: 0, text: async () => String(e) }));
          const body = await r.text();
          if (r.status === 401) { console.log('TUNNEL-OK'); await new Promise((ok) => setTimeout(ok, 500)); continue; }
          console.log('FINAL ' + JSON.stringify({ status: r.status, body }));
          if (r.status === 503 || Date.now() > until) break;
        }
      })();`;
    let stopping: Promise<void> | undefined;
    const r = await runTask(task(script), (log) => {
      if (!stopping && log.includes('TUNNEL-OK'))
        stopping = topo.vpnServer.stop({ t: 2 }).then(() => undefined);
    });
    await stopping;
    expect(r, r.log).toMatchObject({ state: 'completed', exitCode: 0 });
    const finals = printed(r.log, 'FINAL') as Array<{ status: number; body: string }>;
    expect(finals.at(-1)?.status).toBe(503);
    expect(finals.at(-1)?.body).toMatch(
      /^balrog-vpn-proxy: the VPN tunnel (is|went) down \(reconnecting \([a-z-]+\)\); cannot reach http:\/\/fake-balrog\.test\n$/,
    );
  });
});

async function vpnServerLog(): Promise<string> {
  return demux(
    (await topo.vpnServer.logs({ stdout: true, stderr: true, follow: false })) as unknown as Buffer,
  );
}
