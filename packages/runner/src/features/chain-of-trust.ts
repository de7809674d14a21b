/**
 * @module features/chain-of-trust
 * `payload.features.chainOfTrust`: once the artifacts are stored (it sits just before the
 * artifacts feature, so its stop runs after theirs), the live log so far becomes
 * `public/logs/certified.log`, and `public/chain-of-trust.json` lists the task, the worker, its
 * environment and the sha256 of every file artifact of the run (as the last docker-worker's,
 * chainOfTrustVersion 1); `public/chain-of-trust.json.sig` is the ed25519 signature of its exact
 * bytes with the key at worker config `keys.ed25519SigningKey`. A cancelled run signs nothing.
 */
import type { KeyObject } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { Readable } from 'node:stream';
import { featureEnabled } from '../config.js';
import { readSigningKey, signBytes } from '../cot/ed25519.js';
import { fileProblem, internalError, malformedPayload } from '../errors.js';
import type { Feature, Outcome, TaskRun } from './feature.js';

export const COT_NAME = 'public/chain-of-trust.json';
export const COT_SIG_NAME = 'public/chain-of-trust.json.sig';
export const CERTIFIED_LOG_NAME = 'public/logs/certified.log';

export const chainOfTrust: Feature = {
  name: 'chainOfTrust',
  isEnabled: (config) => featureEnabled(config, 'chainOfTrust'),
  isRequested: (task) => task.payload.features?.chainOfTrust === true,
  async start(run) {
    const file = run.config.keys.ed25519SigningKey;
    if (!file)
      throw malformedPayload(
        'payload.features.chainOfTrust needs a signing key, and this worker has none (worker config keys.ed25519SigningKey); run the task on a worker pool that signs chains of trust, or remove the feature',
      );
    let key: KeyObject;
    try {
      key = await readSigningKey(file);
    } catch (err) {
      const why = (err as NodeJS.ErrnoException).code ? fileProblem(err) : (err as Error).message;
      throw internalError(`the chain of trust signing key (keys.ed25519SigningKey) cannot be used: ${why}`);
    }
    return { stop: (outcome) => certify(run, key, outcome) };
  },
};

async function certify(run: TaskRun, key: KeyObject, outcome: Outcome): Promise<void> {
  if (outcome.canceled || outcome.reasonResolved === 'canceled') return;
  const { artifacts: sink, task, config } = run;
  const expires = task.expires;
  await sink.settle(); // every artifact of the run is stored (and hashed) before it is listed
  await sink.putFile(CERTIFIED_LOG_NAME, await logSoFar(run), {
    contentType: 'text/plain; charset=utf-8',
    expires,
    gzip: true,
  });
  await sink.settle();
  const artifacts: Record<string, { sha256: string }> = {};
  for (const record of sink.records) if (record.sha256) artifacts[record.name] = { sha256: record.sha256 };
  const environment: Record<string, string> = {};
  const facts = config.chainOfTrust;
  const privateIp = facts.privateIp ?? firstPrivateIp();
  // chainOfTrust.* first, else the same facts the worker config gives the tasks (TASKCLUSTER_PUBLIC_IP, …).
  const publicIp = facts.publicIp ?? (config.publicIp || undefined);
  if (publicIp) environment.publicIpAddress = publicIp;
  if (privateIp) environment.privateIpAddress = privateIp;
  const imageHash = await imageOf(run, outcome);
  if (imageHash) environment.imageHash = imageHash;
  // The artifact a task image was loaded from, as docker-worker certified it (scriptworker checks it
  // against the chain of trust of the task that made the image).
  if (run.imageArtifactSha256) environment.imageArtifactHash = `sha256:${run.imageArtifactSha256}`;
  const instanceType = facts.instanceType ?? (config.instanceType || undefined);
  for (const [tag, value] of [
    ['instanceId', facts.instanceId],
    ['instanceType', instanceType],
    ['region', facts.region],
  ] as const)
    if (value) environment[tag] = value;
  const certificate = {
    chainOfTrustVersion: 1,
    artifacts,
    task: task.definition ?? {
      created: task.created.toISOString(),
      deadline: task.deadline.toISOString(),
      expires: task.expires.toISOString(),
      scopes: task.scopes,
      payload: task.payload,
    },
    taskId: task.taskId,
    runId: task.runId,
    workerGroup: config.workerGroup,
    workerId: config.workerId,
    workerType: config.workerType,
    environment,
  };
  const json = Buffer.from(JSON.stringify(certificate, null, 2));
  await sink.putFile(COT_NAME, Readable.from([json]), { contentType: 'text/plain; charset=utf-8', expires });
  await sink.putFile(COT_SIG_NAME, Readable.from([signBytes(json, key)]), {
    contentType: 'application/octet-stream',
    expires,
  });
  await sink.settle();
  run.liveLog.info(`Chain of trust: ${COT_NAME} lists ${Object.keys(artifacts).length} artifacts, signed`);
}

/** The id (sha256) of the image the task container ran, whatever form payload.image had. */
async function imageOf(run: TaskRun, outcome: Outcome): Promise<string | undefined> {
  if (!outcome.containerId) return undefined;
  const info = await run.docker.inspectContainer(outcome.containerId, run.networkName).catch(() => undefined);
  return info?.image;
}

/**
 * The live log as it is in its file now (everything the task and the worker wrote so far), read
 * from the file as it is stored: the log of a task may be gigabytes (it was read into one buffer).
 */
async function logSoFar(run: TaskRun): Promise<Readable> {
  await run.liveLog.flush();
  await run.liveLog.settled();
  const length = run.liveLog.bytesWritten;
  if (length === 0) return Readable.from([]);
  return createReadStream(run.liveLog.path, { start: 0, end: length - 1 });
}

function firstPrivateIp(): string | undefined {
  for (const list of Object.values(networkInterfaces()))
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  return undefined;
}
