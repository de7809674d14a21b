/**
 * @module worker/start
 * `docker-worker start --config FILE [--once]`: builds the real dependencies of queue mode from
 * the config and the environment (TASKCLUSTER_ROOT_URL, TASKCLUSTER_CLIENT_ID,
 * TASKCLUSTER_ACCESS_TOKEN, TASKCLUSTER_CERTIFICATE win over the config), starts the live log
 * server and the claim loop, and turns SIGTERM/SIGINT into a shutdown (a second signal exits at
 * once). With `--once` the exit status is the task's (0 completed, 1 failed, 2 exception).
 */
import type { Logger } from 'pino';
import { systemClock } from '../clock.js';
import { warnIgnoredKeys, type WorkerConfig } from '../config.js';
import { createDockerClient } from '../docker/docker-client.js';
import { hostFirewallFor } from '../docker/host-firewall.js';
import { sharedNetworkFor } from '../docker/shared-network.js';
import { UsageError } from '../errors.js';
import type { Credentials } from '../features/feature.js';
import { builtinFeatures } from '../features/index.js';
import { cachePurgePoll } from '../caches/purge-requests.js';
import { betweenTasksGc } from '../gc/between-tasks.js';
import { ImageUsage } from '../images/image-usage.js';
import { prepareDirectory } from '../local/output-paths.js';
import { startLiveLogServer } from './live-log-server.js';
import { taskclusterClients } from './taskcluster.js';
import { Worker, type WorkerStatus } from './worker.js';

const IDENTIFIER = /^[a-zA-Z0-9_-]{1,38}$/;
const EXIT = { completed: 0, failed: 1, exception: 2 } as const;

/** The root URL and the worker's credentials: the environment wins over the config. */
export function workerIdentity(
  config: WorkerConfig,
  env: NodeJS.ProcessEnv,
): { rootUrl: string; credentials: Credentials } {
  const rootUrl = (env.TASKCLUSTER_ROOT_URL || config.rootUrl).replace(/\/$/, '');
  const clientId = env.TASKCLUSTER_CLIENT_ID || config.taskcluster.clientId;
  const accessToken = env.TASKCLUSTER_ACCESS_TOKEN || config.taskcluster.accessToken;
  const certificate = env.TASKCLUSTER_CERTIFICATE || config.taskcluster.certificate;
  if (!rootUrl)
    throw new UsageError('queue mode needs a root URL: set TASKCLUSTER_ROOT_URL or rootUrl in the config');
  if (!clientId || !accessToken)
    throw new UsageError(
      "queue mode needs the worker's credentials: set TASKCLUSTER_CLIENT_ID and TASKCLUSTER_ACCESS_TOKEN, or taskcluster.clientId and taskcluster.accessToken in the config",
    );
  for (const [key, value] of [
    ['workerGroup', config.workerGroup],
    ['workerId', config.workerId],
  ] as const) {
    if (!IDENTIFIER.test(value))
      throw new UsageError(
        `${key} ${JSON.stringify(value)} must be 1-38 characters of a-z A-Z 0-9 _ -; set ${key} in the config`,
      );
  }
  if (!/^[a-zA-Z0-9_-]{1,38}\/[a-z]([-a-z0-9]{0,36}[a-z0-9])?$/.test(config.taskQueueId))
    throw new UsageError(
      `taskQueueId ${JSON.stringify(config.taskQueueId)} must be <provisionerId>/<workerType>; set taskQueueId (or provisionerId and workerType) in the config`,
    );
  return { rootUrl, credentials: { clientId, accessToken, ...(certificate ? { certificate } : {}) } };
}

export async function startWorker(opts: {
  config: WorkerConfig;
  env: NodeJS.ProcessEnv;
  log: Logger;
  once: boolean;
  /** Receives the worker before it claims (worker-runner's protocol drives it from there). */
  onWorker?: (worker: Worker) => void;
}): Promise<number> {
  const { env, log } = opts;
  const { rootUrl, credentials } = workerIdentity(opts.config, env);
  const config: WorkerConfig = { ...opts.config, rootUrl };
  const docker = createDockerClient();
  try {
    await docker.ping();
  } catch (err) {
    throw new UsageError(
      `cannot reach the Docker engine (${(err as Error).message}); start it (npm run setup) or set DOCKER_HOST`,
    );
  }
  await prepareDirectory(
    config.workDir,
    'the work directory',
    'set workDir in the worker config to a writable directory',
  );
  const liveLogServer = await startLiveLogServer({
    port: config.liveLog.port,
    host: config.liveLog.host,
    publicUrl: config.liveLog.publicUrl,
    tls: config.liveLog.tls,
    log,
  }).catch((err: NodeJS.ErrnoException) => {
    throw new UsageError(
      `the live log server cannot listen on ${config.liveLog.host}:${config.liveLog.port} (${err.code ?? err.message}); set liveLog.port in the config`,
    );
  });
  let clients;
  try {
    clients = await taskclusterClients(rootUrl);
  } catch (err) {
    await liveLogServer.close();
    throw err;
  }
  const { firewall, reason } = await hostFirewallFor(config);
  if (!firewall)
    log.warn({ reason }, "task containers can reach this host's ports (the live log server among them)");
  const imageUsage = await ImageUsage.open(config.workDir);
  const betweenTasks = betweenTasksGc({ docker, usage: imageUsage, config, clock: systemClock, log });
  const beforeClaim = cachePurgePoll({ docker, clients, config, clock: systemClock, log });
  const worker = new Worker({
    ...(betweenTasks ? { betweenTasks } : {}),
    ...(beforeClaim ? { beforeClaim } : {}),
    docker,
    clients,
    ...(firewall ? { firewall } : {}),
    sharedNetwork: sharedNetworkFor(config, { docker, log, ...(firewall ? { firewall } : {}) }),
    credentials,
    clock: systemClock,
    log,
    config,
    imageUsage,
    features: builtinFeatures,
    liveLogServer,
    onStatus: process.stderr.isTTY ? statusLine : undefined,
  });
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (++signals > 1) process.exit(130);
    log.warn({ signal }, 'stopping: no more claims');
    void worker.shutdown(config.shutdown.graceSeconds);
  };
  process.on('SIGINT', onSignal).on('SIGTERM', onSignal);
  opts.onWorker?.(worker);
  log.info(
    {
      rootUrl,
      taskQueueId: config.taskQueueId,
      workerId: config.workerId,
      capacity: config.capacity,
      liveLog: liveLogServer.url,
    },
    'worker started',
  );
  warnIgnoredKeys(config, log);
  try {
    const results = await worker.run({ once: opts.once });
    const last = results.at(-1);
    return opts.once && last ? EXIT[last.outcome.state] : 0;
  } finally {
    process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
    await liveLogServer.close();
  }
}

function statusLine(s: WorkerStatus): void {
  process.stderr.write(
    `\r\x1b[Kdocker-worker: running ${s.running}/${s.capacity} · done ${s.done} · failed ${s.failed}`,
  );
}
