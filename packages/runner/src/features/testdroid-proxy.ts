/**
 * @module features/testdroid-proxy
 * payload.features.testdroidProxy: the docker-worker/testdroid-proxy sidecar on the task network
 * as `http://testdroid`, through which the task asks the Testdroid cloud for a phone matching
 * `payload.capabilities.devices.phone` (given to the task as `DEVICE_CAPABILITIES`, JSON) and
 * releases it. At the end of the task, whatever the outcome, the worker calls the sidecar's
 * `POST /device/release` (idempotent) before removing it, so no phone stays locked.
 *
 * Worker config (`testdroid`): `cloudUrl`, `username`, `password` (the feature is enabled only
 * with both), `image`. The build URL is chosen by the task, so the sidecar signs it with the run's
 * Taskcluster credentials restricted to the task's scopes (passed after `--`, as authorizedScopes),
 * never with everything the credentials hold; the device session lasts `payload.maxRunTime` seconds. A loopback cloud URL (a simulator on the host)
 * becomes the task network's gateway address.
 */
import { SECRETS_DIR } from '../docker/docker-client.js';
import { startSidecar, type Sidecar } from '../docker/sidecar.js';
import { malformedPayload, resourceUnavailable, TaskError } from '../errors.js';
import { urlForContainers } from '../run-network.js';
import type { Feature, TaskRun } from './feature.js';

export interface TestdroidProxyDeps {
  startSidecar: typeof startSidecar;
  /** Asks the sidecar to release its device session; resolves with its answer. */
  release: (sidecar: Sidecar) => Promise<string>;
}

const RELEASE_TIMEOUT_MS = 60_000;

/** `POST http://<sidecar>/device/release` (idempotent on the proxy side). */
export async function defaultRelease(sidecar: Sidecar): Promise<string> {
  const res = await fetch(`http://${sidecar.ip}/device/release`, {
    method: 'POST',
    signal: AbortSignal.timeout(RELEASE_TIMEOUT_MS),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${res.status} ${text.slice(0, 300)}`);
  return text;
}

export function createTestdroidProxy(
  deps: TestdroidProxyDeps = { startSidecar, release: defaultRelease },
): Feature {
  return {
    name: 'testdroidProxy',
    configKey: 'testdroid.username and testdroid.password',
    isEnabled: (config) => Boolean(config.testdroid.username && config.testdroid.password),
    isRequested: (task) => task.payload.features?.testdroidProxy === true,
    async start(run) {
      const devices = run.task.payload.capabilities?.devices;
      if (!devices) {
        throw malformedPayload(
          'Device configuration must be supplied in task payload: testdroidProxy needs payload.capabilities.devices.phone, e.g. {"type":"flame","sims":"1","build":"https://...","memory":"319"}',
        );
      }
      const phone = devices.phone;
      if (typeof phone !== 'object' || phone === null) {
        throw malformedPayload(
          'Phone device configuration must be supplied in task payload: set payload.capabilities.devices.phone to {"type":"flame","sims":"1","build":"https://...","memory":"319"}',
        );
      }
      const creds = run.credentials;
      if (!creds) {
        throw resourceUnavailable(
          "testdroidProxy signs build URLs with the worker's Taskcluster credentials: set TASKCLUSTER_CLIENT_ID and TASKCLUSTER_ACCESS_TOKEN",
        );
      }
      const { testdroid, sidecarTimeoutMs } = run.config;
      const network = await run.network();
      // Secrets go as files, never into the sidecar's environment (which `docker inspect` shows).
      const secretFiles: Record<string, string> = {
        'testdroid-password': testdroid.password ?? '',
        'access-token': creds.accessToken,
      };
      const env: Record<string, string> = {
        TESTDROID_CLOUD_URL: `${urlForContainers(testdroid.cloudUrl, network.gateway)}/`,
        TESTDROID_USERNAME: testdroid.username ?? '',
        TESTDROID_PASSWORD_FILE: `${SECRETS_DIR}/testdroid-password`,
        TASKCLUSTER_CLIENT_ID: creds.clientId,
        TASKCLUSTER_ACCESS_TOKEN_FILE: `${SECRETS_DIR}/access-token`,
        DEVICE_TIMEOUT: String(run.task.payload.maxRunTime),
      };
      if (creds.certificate) {
        secretFiles.certificate = creds.certificate;
        env.TASKCLUSTER_CERTIFICATE_FILE = `${SECRETS_DIR}/certificate`;
      }
      run.liveLog.info(`Starting the testdroid proxy (http://testdroid, phone ${JSON.stringify(phone)})`);
      let sidecar: Sidecar;
      try {
        sidecar = await deps.startSidecar(run, {
          image: testdroid.image,
          alias: 'testdroid',
          env,
          secretFiles,
          // It needs nothing but its port 80.
          capDrop: ['ALL'],
          capAdd: ['NET_BIND_SERVICE'],
          // the task's scopes: every bewit the proxy makes is restricted to them (authorizedScopes)
          cmd: ['--', ...run.task.scopes],
          readyPort: 80,
          readyPath: '/',
          timeoutMs: sidecarTimeoutMs,
        });
      } catch (err) {
        if (!(err instanceof TaskError)) throw err;
        throw new TaskError(err.resolution, `Failed to initialize testdroid proxy service: ${err.message}`, {
          cause: err,
        });
      }
      return {
        contribution: {
          env: { DEVICE_CAPABILITIES: JSON.stringify(phone) },
          extraHosts: [sidecar.hostsEntry],
        },
        stop: () => releaseAndStop(run, sidecar, deps.release),
      };
    },
  };
}

/** Releases the device session whatever the outcome (so no phone stays locked), then stops the sidecar. */
async function releaseAndStop(
  run: TaskRun,
  sidecar: Sidecar,
  release: TestdroidProxyDeps['release'],
): Promise<void> {
  try {
    const answer = await release(sidecar);
    run.log.info({ answer }, 'testdroid device released');
  } catch (err) {
    run.log.warn({ err: String(err) }, 'testdroid release failed');
    run.liveLog.error(
      `Could not release the testdroid device session: ${err instanceof Error ? err.message : String(err)}`,
    );
  } finally {
    await sidecar.stop();
  }
}

export const testdroidProxy: Feature = createTestdroidProxy();
