/**
 * @module features/taskcluster-proxy
 * payload.features.taskclusterProxy: the docker-worker/taskcluster-proxy sidecar on the task
 * network as `http://taskcluster`, signing with the run's credentials restricted to the task's
 * scopes, and a fresh per-run secret guarding its `PUT /credentials`.
 *
 * The proxy's `authorizedScopes` are the task's scopes plus `queue:create-artifact:<taskId>/<runId>`
 * (as the last docker-worker: a task may upload artifacts to its own run through the proxy, which
 * its own scopes cannot name); a task without scopes otherwise gets what the anonymous role allows.
 *
 * A loopback root URL (a fake Taskcluster on the host) becomes the task network's gateway address
 * (`run-network.ts`). In queue mode every new set of task credentials (after a reclaim) goes to the
 * sidecar through its authenticated `PUT /credentials`; the handle waits for the last one on stop.
 */
import { randomBytes } from 'node:crypto';
import { SECRETS_DIR } from '../docker/docker-client.js';
import { launchSidecar, type Sidecar } from '../docker/sidecar.js';
import { featureEnabled } from '../config.js';
import { resourceUnavailable } from '../errors.js';
import { urlForContainers } from '../run-network.js';
import type { Credentials, Feature, TaskRun } from './feature.js';

/** How long one `PUT /credentials` to the sidecar may take. */
const CREDENTIALS_TIMEOUT_MS = 10_000;
/** Attempts of one update (a failed connection or a 5xx), 0.5 s apart and doubling, as docker-worker retried it. */
const CREDENTIALS_ATTEMPTS = 5;
const CREDENTIALS_FIRST_DELAY_MS = 500;

export const taskclusterProxy: Feature = {
  name: 'taskclusterProxy',
  isEnabled: (config) => featureEnabled(config, 'taskclusterProxy'),
  isRequested: (task) => task.payload.features?.taskclusterProxy === true,
  async start(run) {
    const creds = run.credentials;
    if (!creds || !run.rootUrl) {
      throw resourceUnavailable(
        'the taskclusterProxy feature needs Taskcluster credentials: set TASKCLUSTER_ROOT_URL, TASKCLUSTER_CLIENT_ID and TASKCLUSTER_ACCESS_TOKEN',
      );
    }
    const secret = randomBytes(32).toString('hex');
    run.liveLog.addSecret(secret);
    const network = await run.network();
    // Secrets go as files, never into the sidecar's environment (which `docker inspect` shows).
    const secretFiles: Record<string, string> = {
      'access-token': creds.accessToken,
      'credentials-secret': secret,
    };
    const env: Record<string, string> = {
      TASKCLUSTER_ROOT_URL: urlForContainers(run.rootUrl, network.gateway),
      TASKCLUSTER_CLIENT_ID: creds.clientId,
      TASKCLUSTER_ACCESS_TOKEN_FILE: `${SECRETS_DIR}/access-token`,
      TASKCLUSTER_PROXY_CREDENTIALS_SECRET_FILE: `${SECRETS_DIR}/credentials-secret`,
    };
    if (creds.certificate) {
      secretFiles.certificate = creds.certificate;
      env.TASKCLUSTER_CERTIFICATE_FILE = `${SECRETS_DIR}/certificate`;
    }
    const sidecar = await launchSidecar(run, {
      image: run.config.images.taskclusterProxy,
      alias: 'taskcluster',
      env,
      // `--` ends the options: a scope may begin with '-' and must never be read as a flag.
      cmd: ['--', ...run.task.scopes, `queue:create-artifact:${run.task.taskId}/${run.task.runId}`],
      secretFiles,
      // It needs nothing but its port 80.
      capDrop: ['ALL'],
      capAdd: ['NET_BIND_SERVICE'],
      readyPort: 80,
      readyPath: '/__health',
      // It is up ~0.3 s after its start: a probe every 20 ms (a refused connect, cheap) finds it
      // within 20 ms rather than up to 100 ms later.
      intervalMs: 20,
      timeoutMs: run.config.sidecarTimeoutMs,
    });
    // Updates go one after the other, once it answers, so it always ends with the newest set.
    let updates = sidecar.ready.catch(() => undefined);
    const unsubscribe = run.onCredentials((next) => {
      updates = updates.then(() => putCredentials(run, sidecar, secret, next));
    });
    return {
      contribution: {
        env: { TASKCLUSTER_PROXY_URL: 'http://taskcluster' },
        extraHosts: [sidecar.hostsEntry],
      },
      // The task container is created while the proxy starts; it starts once the proxy answers.
      ready: sidecar.ready,
      async stop() {
        unsubscribe();
        await updates;
        await sidecar.stop();
      },
    };
  },
};

/**
 * `PUT /credentials` on the sidecar, tried again on a failed connection or a 5xx; a last failure
 * is logged (the old set still works until it expires).
 */
export async function putCredentials(
  run: Pick<TaskRun, 'log' | 'clock' | 'signal'>,
  sidecar: Pick<Sidecar, 'ip'>,
  secret: string,
  next: Credentials,
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    let failure: Record<string, unknown>;
    try {
      const res = await fetch(`http://${sidecar.ip}/credentials`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          clientId: next.clientId,
          accessToken: next.accessToken,
          certificate: next.certificate ?? '',
        }),
        signal: AbortSignal.timeout(CREDENTIALS_TIMEOUT_MS),
      });
      await res.body?.cancel();
      if (res.ok)
        return void run.log.debug({ clientId: next.clientId, attempt }, 'proxy credentials updated');
      if (res.status < 500) return void run.log.warn({ status: res.status }, 'proxy refused new credentials');
      failure = { status: res.status };
    } catch (err) {
      failure = { err: String(err) };
    }
    if (attempt >= CREDENTIALS_ATTEMPTS || run.signal.aborted)
      return void run.log.warn({ ...failure, attempts: attempt }, 'proxy credentials update failed');
    const delay = CREDENTIALS_FIRST_DELAY_MS * 2 ** (attempt - 1);
    run.log.debug({ ...failure, attempt, delayMs: delay }, 'proxy credentials update failed; trying again');
    try {
      await run.clock.sleep(delay, run.signal);
    } catch {
      return; // the run ended meanwhile
    }
  }
}
