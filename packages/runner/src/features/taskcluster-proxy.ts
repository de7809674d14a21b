/**
 * @module features/taskcluster-proxy
 * payload.features.taskclusterProxy: the docker-worker/taskcluster-proxy sidecar on the task
 * network as `http://taskcluster`, signing with the run's credentials restricted to the task's
 * scopes, and a fresh per-run secret guarding its `PUT /credentials`.
 *
 * The task's scopes are the proxy's `authorizedScopes`, exactly: a task without scopes gets a proxy
 * that can only do what the anonymous role allows (as upstream, where `[]` meant anonymous only).
 *
 * A loopback root URL (a fake Taskcluster on the host) is unreachable from a container, so the
 * sidecar gets the task network's gateway address instead (the service must listen on 0.0.0.0).
 */
import { randomBytes } from 'node:crypto';
import { startSidecar, type Sidecar } from '../docker/sidecar.js';
import { resourceUnavailable } from '../errors.js';
import type { Feature, TaskRun } from './feature.js';

const sidecars = new WeakMap<TaskRun, { sidecar: Sidecar; unsubscribe: () => void }>();

const LOOPBACK = /^(localhost|127(\.\d+){3}|\[::1\]|::1)$/i;

/** The root URL as seen from the task network: loopback hosts become the network's gateway. */
export function rootUrlForContainers(rootUrl: string, gateway: string | undefined): string {
  const url = new URL(rootUrl);
  if (!LOOPBACK.test(url.hostname) || !gateway) return rootUrl.replace(/\/$/, '');
  url.hostname = gateway;
  return url.toString().replace(/\/$/, '');
}

export const taskclusterProxy: Feature = {
  name: 'taskclusterProxy',
  isEnabled: () => true,
  isRequested: (task) => task.payload.features?.taskclusterProxy === true,
  async start(run) {
    const creds = run.credentials;
    if (!creds || !run.rootUrl) {
      throw resourceUnavailable(
        'the taskclusterProxy feature needs Taskcluster credentials: set TASKCLUSTER_ROOT_URL, TASKCLUSTER_CLIENT_ID and TASKCLUSTER_ACCESS_TOKEN',
      );
    }
    const secret = randomBytes(32).toString('hex');
    const env: Record<string, string> = {
      TASKCLUSTER_ROOT_URL: rootUrlForContainers(run.rootUrl, run.network.gateway),
      TASKCLUSTER_CLIENT_ID: creds.clientId,
      TASKCLUSTER_ACCESS_TOKEN: creds.accessToken,
      TASKCLUSTER_PROXY_CREDENTIALS_SECRET: secret,
    };
    if (creds.certificate) env.TASKCLUSTER_CERTIFICATE = creds.certificate;
    const sidecar = await startSidecar(run, {
      image: run.config.images.taskclusterProxy,
      alias: 'taskcluster',
      env,
      // `--` ends the options: a scope may begin with '-' and must never be read as a flag.
      cmd: ['--', ...run.task.scopes],
      readyPort: 80,
      readyPath: '/__health',
      timeoutMs: run.config.sidecarTimeoutMs,
    });
    const unsubscribe = run.onCredentials((next) => {
      fetch(`http://${sidecar.ip}/credentials`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          clientId: next.clientId,
          accessToken: next.accessToken,
          certificate: next.certificate ?? '',
        }),
      }).then(
        (res) => void (res.ok || run.log.warn({ status: res.status }, 'proxy refused new credentials')),
        (err: unknown) => run.log.warn({ err }, 'proxy credentials update failed'),
      );
    });
    sidecars.set(run, { sidecar, unsubscribe });
    return { env: { TASKCLUSTER_PROXY_URL: 'http://taskcluster' }, extraHosts: [sidecar.hostsEntry] };
  },
  async stop(run) {
    const entry = sidecars.get(run);
    sidecars.delete(run);
    entry?.unsubscribe();
    await entry?.sidecar.stop();
  },
};
