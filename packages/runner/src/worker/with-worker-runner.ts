/**
 * @module worker/with-worker-runner
 * `docker-worker run --config FILE --with-worker-runner`: queue mode as Taskcluster's worker-runner
 * starts a worker through its generic-worker launcher. FILE is the JSON worker-runner writes
 * (`rootURL`, `clientId`, `accessToken`, `certificate`, `provisionerId`, `workerType`, `workerGroup`,
 * `workerId`, `publicIP`, `instanceType`, ... merged with the pool's `workerConfig`). Our own config
 * comes from its `dockerWorker` object, over the file named by `dockerWorkerConfigFile` when given;
 * the instance's facts worker-runner adds from its provider (`publicIP`, `privateIP`, `instanceID`,
 * `instanceType`, `region`, `workerLocation`) override them, as they do generic-worker's config:
 * the tasks' TASKCLUSTER_PUBLIC_IP, TASKCLUSTER_INSTANCE_TYPE and TASKCLUSTER_WORKER_LOCATION, and
 * the chain of trust's environment. The generic-worker keys we do not use are ignored. The protocol runs on stdin/stdout (stdout
 * carries nothing else; the operator log is on stderr): `new-credentials` swaps the worker's own
 * credentials, `graceful-termination` stops claiming (finish-tasks) or aborts the tasks as
 * worker-shutdown; when the worker ends it sends `shutdown`; an error it cannot recover from goes
 * as `error-report` first.
 */
import type { Logger } from 'pino';
import { buildConfig, section, type WorkerConfig } from '../config.js';
import { UsageError } from '../errors.js';
import { readYamlFile } from '../yaml-file.js';
import { startWorker } from './start.js';
import type { Worker } from './worker.js';
import { WorkerRunnerProtocol } from './worker-runner-protocol.js';

const WELCOME_WAIT_MS = 10_000;

/** The worker-runner JSON as our worker config. */
export async function configFromWorkerRunner(file: string): Promise<WorkerConfig> {
  const raw = await readYamlFile(file, 'worker-runner config', 'give --config the file worker-runner wrote');
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new UsageError(`worker-runner config ${file} must be a JSON object`);
  const j = raw as Record<string, unknown>;
  const str = (key: string): string | undefined =>
    typeof j[key] === 'string' && j[key] !== '' ? (j[key] as string) : undefined;
  let base: Record<string, unknown> = {};
  const extraFile = str('dockerWorkerConfigFile');
  if (extraFile) {
    const extra = await readYamlFile(
      extraFile,
      'docker-worker config',
      'fix dockerWorkerConfigFile in the worker pool config',
    );
    if (typeof extra === 'object' && extra !== null) base = extra as Record<string, unknown>;
  }
  const own =
    typeof j.dockerWorker === 'object' && j.dockerWorker !== null
      ? (j.dockerWorker as Record<string, unknown>)
      : {};
  const provisionerId = str('provisionerId');
  const workerType = str('workerType');
  const obj = (v: unknown): object => section(v) ?? {};
  // The instance's facts, from worker-runner's provider (genericworker.go's metadata keys).
  const facts = Object.fromEntries(
    (
      [
        ['publicIp', 'publicIP'],
        ['privateIp', 'privateIP'],
        ['instanceId', 'instanceID'],
        ['instanceType', 'instanceType'],
        ['region', 'region'],
      ] as const
    ).flatMap(([ours, theirs]) => (str(theirs) ? [[ours, str(theirs)]] : [])),
  ) as Record<string, string>;
  const merged: Record<string, unknown> = {
    ...base,
    ...own,
    ...(facts.publicIp ? { publicIp: facts.publicIp } : {}),
    ...(facts.instanceType ? { instanceType: facts.instanceType } : {}),
    ...(str('workerLocation') ? { workerLocation: str('workerLocation') } : {}),
    // Merged with chainOfTrust.* of the config; one that is no object is left for the check to name.
    ...(Object.keys(facts).length > 0 &&
    [base.chainOfTrust, own.chainOfTrust].every((c) => c === undefined || section(c))
      ? { chainOfTrust: { ...obj(base.chainOfTrust), ...obj(own.chainOfTrust), ...facts } }
      : {}),
    ...(str('rootURL') ? { rootUrl: str('rootURL') } : {}),
    taskcluster: {
      ...obj(base.taskcluster),
      ...(str('clientId') ? { clientId: str('clientId') } : {}),
      ...(str('accessToken') ? { accessToken: str('accessToken') } : {}),
      ...(str('certificate') ? { certificate: str('certificate') } : {}),
    },
    ...(provisionerId ? { provisionerId } : {}),
    ...(workerType ? { workerType } : {}),
    ...(provisionerId && workerType ? { taskQueueId: `${provisionerId}/${workerType}` } : {}),
    ...(str('workerGroup') ? { workerGroup: str('workerGroup') } : {}),
    ...(str('workerId') ? { workerId: str('workerId') } : {}),
  };
  return buildConfig(merged, `worker-runner config ${file}`);
}

export async function startWithWorkerRunner(opts: { configFile: string; log: Logger }): Promise<number> {
  const { log } = opts;
  const protocol = new WorkerRunnerProtocol(process.stdin, process.stdout, log);
  const welcomed = await Promise.race([
    protocol.ready.then(() => true),
    new Promise<boolean>((r) => setTimeout(() => r(false), WELCOME_WAIT_MS).unref()),
  ]);
  if (!welcomed) log.warn('worker-runner sent no welcome: running without its protocol');
  let worker: Worker | undefined;
  let pendingTermination: boolean | undefined;
  protocol.on('new-credentials', (m) => {
    const clientId = m['client-id'];
    const accessToken = m['access-token'];
    if (typeof clientId !== 'string' || typeof accessToken !== 'string')
      return void log.warn('worker-runner: new-credentials without client-id and access-token ignored');
    const certificate = typeof m.certificate === 'string' && m.certificate !== '' ? m.certificate : undefined;
    worker?.setCredentials({ clientId, accessToken, ...(certificate ? { certificate } : {}) });
  });
  protocol.on('graceful-termination', (m) => {
    const finish = m['finish-tasks'] === true;
    log.warn({ finishTasks: finish }, 'worker-runner asked for a graceful termination');
    if (!worker) return void (pendingTermination = finish);
    terminate(worker, finish);
  });
  const terminate = (w: Worker, finishTasks: boolean): void => {
    if (finishTasks) w.stop();
    else void w.shutdown(0);
  };
  try {
    const config = await configFromWorkerRunner(opts.configFile);
    const code = await startWorker({
      config,
      env: {}, // worker-runner's credentials, not whatever the environment holds
      log,
      once: false,
      onWorker: (w) => {
        worker = w;
        if (pendingTermination !== undefined) terminate(w, pendingTermination);
      },
    });
    protocol.send('shutdown');
    return code;
  } catch (err) {
    protocol.send('error-report', {
      kind: 'worker-error',
      title: 'docker-worker stopped',
      description: (err as Error).message ?? String(err),
      extra: {},
    });
    throw err;
  } finally {
    protocol.close();
  }
}
