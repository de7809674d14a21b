/**
 * @module features/balrog-vpn-proxy
 * payload.features.balrogVPNProxy: the docker-worker/balrog-vpn-proxy sidecar (openvpn + an HTTP
 * forwarder) on the task network as `http://balrog`, forwarding over the VPN to the worker's
 * `balrog.proxiedServer`. Only the sidecar gets NET_ADMIN and /dev/net/tun, never the task.
 *
 * Worker config (`balrog`): `vpnConfigDir` (mounted read-only at /vpn; the feature is enabled only
 * when it exists), `proxiedServer`, `extraHosts` (the original's host pin, e.g.
 * `aus4-admin.mozilla.org:10.8.81.74`), `image`, `probe.{attempts,intervalMs}`.
 * Ready = the sidecar's `/__vpn/health` says the tunnel is up and the upstream answered through it
 * (any HTTP status; balrog answers 401 without credentials). Otherwise the task is resolved
 * exception/internal-error, with the sidecar's own log lines in the task log.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { launchSidecar } from '../docker/sidecar.js';
import { internalError, TaskError } from '../errors.js';
import type { Feature } from './feature.js';

export const BALROG_VPN_PROXY_SCOPE = 'docker-worker:feature:balrogVPNProxy';
/** Where the image looks for its VPN configuration. */
const VPN_DIR = '/vpn';

export const balrogVPNProxy: Feature = {
  name: 'balrogVPNProxy',
  configKey: 'balrog.proxiedServer and balrog.vpnConfigDir (a directory that exists)',
  isEnabled: (config) => Boolean(config.balrog.proxiedServer) && existsSync(config.balrog.vpnConfigDir),
  isRequested: (task) => task.payload.features?.balrogVPNProxy === true,
  requiredScopes: () => [[BALROG_VPN_PROXY_SCOPE]],
  async start(run) {
    const { balrog, sidecarTimeoutMs } = run.config;
    const probeMs = balrog.probe.attempts * balrog.probe.intervalMs;
    run.liveLog.info(`Starting the balrog VPN proxy (http://balrog → ${balrog.proxiedServer})`);
    // openvpn may print its configuration: the VPN keys never reach the task's log.
    for (const secret of await vpnSecrets(balrog.vpnConfigDir)) run.liveLog.addSecret(secret);
    try {
      const sidecar = await launchSidecar(run, {
        image: balrog.image,
        alias: 'balrog',
        env: {
          PROXIED_SERVER: balrog.proxiedServer,
          // The sidecar gives up on the tunnel (and says why) before the worker stops waiting.
          TUNNEL_TIMEOUT: String(Math.max(1, Math.floor(sidecarTimeoutMs / 1000))),
        },
        binds: [`${balrog.vpnConfigDir}:${VPN_DIR}:ro`],
        capAdd: ['NET_ADMIN'],
        devices: ['/dev/net/tun'],
        extraHosts: balrog.extraHosts,
        readyPort: 80,
        readyPath: '/__vpn/health',
        isReady: (status) => status === 200,
        intervalMs: balrog.probe.intervalMs,
        timeoutMs: sidecarTimeoutMs + probeMs,
      });
      // The task container is created while the tunnel comes up; it starts once the proxy answers.
      const ready = sidecar.ready.catch((err: unknown) => {
        throw tunnelError(balrog.proxiedServer, err);
      });
      ready.catch(() => undefined); // awaited by the lifecycle; never unhandled meanwhile
      return { contribution: { extraHosts: [sidecar.hostsEntry] }, ready, stop: () => sidecar.stop() };
    } catch (err) {
      throw tunnelError(balrog.proxiedServer, err);
    }
  },
};

/** A tunnel that does not come up is the worker's fault: a sidecar's `failed` becomes internal-error; cancels and the like pass. */
function tunnelError(proxiedServer: string, err: unknown): unknown {
  if (err instanceof TaskError && err.resolution !== 'failed') return err;
  const why = err instanceof Error ? err.message : String(err);
  return internalError(`balrogVPNProxy: could not reach ${proxiedServer} through the VPN: ${why}`, err);
}

/** The contents of the key files of the VPN configuration directory (private keys, TLS auth keys). */
async function vpnSecrets(dir: string): Promise<string[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const keys = names.filter((n) => /\.(key|pem|p12|pfx)$/i.test(n) && !/^ca\.|\.crt$/i.test(n));
  const contents = await Promise.all(keys.map((n) => readFile(join(dir, n), 'utf8').catch(() => '')));
  return contents.map((c) => c.trim()).filter((c) => c.length > 0);
}
