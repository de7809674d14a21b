/**
 * @module config
 * The worker configuration: a YAML or JSON file validated once against `schemas/worker-config.json`
 * (ajv fills every default), then a plain typed object. Only this module and `cli.ts` read env vars.
 */
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateConfig as validate } from './schemas/validators.js';
import { UsageError } from './errors.js';
import { readYamlFile } from './yaml-file.js';

export interface WorkerConfig {
  /**
   * Keys of the last docker-worker's config that have no counterpart here, given and ignored
   * (`warnIgnoredKeys` names them where a command loads the config); see `lastWorkerNames`.
   */
  ignoredKeys?: string[];
  rootUrl: string;
  /** Queue mode: the worker's own credentials (the TASKCLUSTER_* variables win). */
  taskcluster: { clientId?: string; accessToken?: string; certificate?: string };
  provisionerId: string;
  workerType: string;
  taskQueueId: string;
  workerGroup: string;
  workerId: string;
  capacity: number;
  pollingIntervalMs: number;
  reclaimIntervalMs: number;
  reclaimDivisor: number;
  artifacts: { storageType: 'object' | 's3'; uploadConcurrency: number };
  liveLog: { port: number; host: string; publicUrl: string; tls: { cert?: string; key?: string } };
  shutdown: { graceSeconds: number; afterIdleSeconds: number };
  capacityManagement: { diskspaceThreshold: number };
  workDir: string;
  cacheVolumePrefix: string;
  maxRunTimeLimit: number;
  sidecarTimeoutMs: number;
  /** Seconds a sidecar gets after SIGTERM before SIGKILL when it is stopped. */
  sidecarStopGraceSeconds: number;
  cleanupTimeoutMs: number;
  taskContainer: {
    noNewPrivileges: boolean;
    pidsLimit: number;
    memoryBytes: number;
    blockHostAccess: boolean;
    /** Tasks without sidecars on the engine's default bridge when its icc is off. */
    defaultBridge: boolean;
    /** /dev/shm size in bytes (0: Docker's default). */
    shmSize: number;
    /** Run the task with a TTY, as the last docker-worker. */
    tty: boolean;
  };
  images: { taskclusterProxy: string };
  capabilities: { privileged: boolean; disableSeccomp: boolean; devices: string[] };
  /** Per payload feature (`features.<name>.enabled`, the last docker-worker's form). */
  features: Record<ConfigFeature, { enabled: boolean }>;
  deviceManagement: Record<DeviceKind | 'cpu', { enabled: boolean }>;
  /** `allowPrivileged` is folded into capabilities.privileged. */
  dockerConfig: { allowPrivileged?: boolean; maxAttempts: number; delayFactorMs: number };
  /** Credentials per registry host (never logged). */
  registries: Record<string, { username: string; password: string }>;
  garbageCollection: { imageExpirationSeconds: number; betweenTasks: boolean; intervalSeconds: number };
  /** One core per task (cpuset), capacity at most the cores. */
  restrictCPU: boolean;
  ssl: { certificate?: string; key?: string };
  /** TASKCLUSTER_INSTANCE_TYPE, the log's Worker Node Type (`workerNodeType` is its alias). */
  instanceType: string;
  workerNodeType: string;
  publicIp: string;
  workerLocation: string;
  keys: { encryptedEnvPrivateKey?: string; passphraseFile?: string; ed25519SigningKey?: string };
  /** features.interactive: the shell server and the container's wait for sessions. */
  interactive: {
    host: string;
    publicHost?: string;
    artifactName: string;
    minTimeSeconds: number;
    expirationAfterSessionSeconds: number;
  };
  /** Facts about this host the chain of trust records (the private IP defaults to the first non-loopback IPv4). */
  chainOfTrust: {
    publicIp?: string;
    privateIp?: string;
    instanceId?: string;
    instanceType?: string;
    region?: string;
  };
  balrog: {
    image: string;
    proxiedServer: string;
    vpnConfigDir: string;
    extraHosts: string[];
    probe: { attempts: number; intervalMs: number };
  };
  testdroid: { image: string; cloudUrl: string; username?: string; password?: string };
}

export type ConfigFeature =
  | 'localLiveLog'
  | 'artifacts'
  | 'bulkLog'
  | 'taskclusterProxy'
  | 'allowPtrace'
  | 'chainOfTrust'
  | 'interactive'
  | 'dind'
  | 'dockerSave';

export type DeviceKind = 'loopbackVideo' | 'loopbackAudio' | 'hostSharedMemory' | 'kvm';

/** `features.<name>.enabled` (true when the config does not say). */
export const featureEnabled = (config: WorkerConfig, name: ConfigFeature): boolean =>
  config.features?.[name]?.enabled !== false;

/** Deeply partial, for tests and overrides. */
export type WorkerConfigInput = {
  [K in keyof WorkerConfig]?: WorkerConfig[K] extends object ? Partial<WorkerConfig[K]> : WorkerConfig[K];
};

/** `v` when it is a plain object (a config section), else undefined. */
export const section = (v: unknown): Record<string, unknown> | undefined =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;

/** The last docker-worker's keys with no counterpart here: accepted, ignored, named in a warning. */
const IGNORED_TOP = [
  'alivenessCheckInterval', // the engine is pinged before every claim
  'dockerVolume', // images and caches live in the engine's data root
  'logging', // secureLiveLogging: the live log's TLS is liveLog.tls / liveLog.publicUrl
  'cache', // volumeCachePath: caches are named volumes
  'dockerSave', // expiration: artifacts expire with the task
  'dindImage',
  'statelessHostname',
  'monitorProject',
  'testMode',
  'createQueue',
  'pulse',
  'metricsCollection',
  'influx',
  'schema',
  'host',
] as const;
const IGNORED_IN: Record<string, readonly string[]> = {
  garbageCollection: ['containerExpiration'], // a run's containers are removed as it ends
  dockerConfig: ['defaultRegistry'], // an image name without a registry is Docker Hub's
  interactive: ['ssl'],
  artifacts: ['skipCompressionExtensions'],
  task: ['dequeueCount', 'maxSetupTime'],
};

/**
 * Moves the number `from[a]` to `to[b]` unless `to[b]` is set; `ms: true` turns milliseconds into
 * whole seconds, rounded up (400 ms is 1 s, not 0, which means something else for our keys). A
 * value of another type, or a non-positive number of milliseconds, stays where it is, for the
 * schema check to name as the user wrote it.
 */
function move(
  from: Record<string, unknown> | undefined,
  a: string,
  to: Record<string, unknown> | undefined,
  b: string,
  ms = false,
): void {
  const value = from?.[a];
  if (!from || !to || typeof value !== 'number' || (ms && !(value > 0))) return;
  if (to[b] === undefined) to[b] = ms ? Math.ceil(value / 1000) : value;
  delete from[a];
}

/** Removes `key` from `sec` when there, noting it in `ignored` as `name`. */
function drop(sec: Record<string, unknown> | undefined, key: string, name: string, ignored: string[]): void {
  if (!sec || !(key in sec)) return;
  ignored.push(name);
  delete sec[key];
}

/**
 * The last docker-worker's names for settings we name otherwise (a pool's workerConfig moved over
 * as it is): `dockerConfig.delayFactor`, `shutdown.enabled`, `ed25519SigningKeyLocation`,
 * `garbageCollection.imageExpiration`/`interval` (ms), `interactive.minTime`/`expirationAfterSession`
 * and its `artifactName` base path, `task.reclaimDivisor`, `taskQueue.pollInterval`, `instanceId`,
 * `region`; ours win when both are given. Its keys with no counterpart (`IGNORED_TOP`, `IGNORED_IN`)
 * are removed and returned. (`dockerConfig.allowPrivileged` and
 * `workerNodeType` are read after the check.)
 */
function lastWorkerNames(copy: Record<string, unknown>): string[] {
  const ignored: string[] = [];
  if (!section(copy)) return ignored; // not an object: the schema check says so
  for (const key of IGNORED_TOP) drop(copy, key, key, ignored);
  for (const [name, keys] of Object.entries(IGNORED_IN))
    for (const key of keys) drop(section(copy[name]), key, `${name}.${key}`, ignored);
  const gc = section(copy.garbageCollection);
  move(gc, 'imageExpiration', gc, 'imageExpirationSeconds', true);
  move(gc, 'interval', gc, 'intervalSeconds', true);
  const interactive = section(copy.interactive);
  move(interactive, 'minTime', interactive, 'minTimeSeconds');
  move(interactive, 'expirationAfterSession', interactive, 'expirationAfterSessionSeconds');
  // Its artifactName was the folder of shell.html (default `private/docker-worker/`).
  if (interactive && typeof interactive.artifactName === 'string' && interactive.artifactName.endsWith('/'))
    interactive.artifactName += 'shell.html';
  move(section(copy.task), 'reclaimDivisor', copy, 'reclaimDivisor');
  move(section(copy.taskQueue), 'pollInterval', copy, 'pollingIntervalMs');
  // Sections of theirs with nothing of ours: gone once emptied.
  for (const name of ['task', 'taskQueue']) {
    const sec = section(copy[name]);
    if (sec && Object.keys(sec).length === 0) delete copy[name];
  }
  for (const key of ['instanceId', 'region']) {
    if (typeof copy[key] !== 'string') continue;
    if (copy.chainOfTrust === undefined) copy.chainOfTrust = {};
    const cot = section(copy.chainOfTrust);
    if (cot && cot[key] === undefined) cot[key] = copy[key];
    delete copy[key];
  }
  const docker = section(copy.dockerConfig);
  if (docker && docker.delayFactor !== undefined && docker.delayFactorMs === undefined)
    docker.delayFactorMs = docker.delayFactor;
  const shutdown = section(copy.shutdown);
  if (shutdown?.enabled === false) shutdown.afterIdleSeconds = 0;
  else if (shutdown?.enabled === true && shutdown.afterIdleSeconds === undefined)
    shutdown.afterIdleSeconds = 300; // its default
  if (typeof copy.ed25519SigningKeyLocation === 'string') {
    if (copy.keys === undefined) copy.keys = {};
    const keys = section(copy.keys);
    if (keys && keys.ed25519SigningKey === undefined) keys.ed25519SigningKey = copy.ed25519SigningKeyLocation;
  }
  return ignored;
}

/** Names the ignored keys of the last docker-worker's config (`ignoredKeys`) in one warning. */
export function warnIgnoredKeys(
  config: WorkerConfig,
  log: { warn(fields: object, message: string): void },
): void {
  if (config.ignoredKeys)
    log.warn(
      { ignored: config.ignoredKeys },
      "config keys of the last docker-worker with no counterpart here: ignored (see the runner README's config table)",
    );
}

/** Validates `input`, fills defaults and derived values. Throws UsageError listing every problem. */
export function buildConfig(input: unknown = {}, source = 'config'): WorkerConfig {
  const copy = structuredClone(input ?? {}) as Record<string, unknown>;
  // Given only the task queue, the worker type and provisioner are its halves (TASKCLUSTER_WORKER_TYPE,
  // the log's header, the chain of trust), not the defaults.
  const queue = typeof copy.taskQueueId === 'string' ? /^([^/]+)\/([^/]+)$/.exec(copy.taskQueueId) : null;
  if (queue && copy.provisionerId === undefined && copy.workerType === undefined) {
    copy.provisionerId = queue[1];
    copy.workerType = queue[2];
  }
  const ignoredKeys = lastWorkerNames(copy);
  if (!validate(copy)) {
    const problems = (validate.errors ?? []).map((e) =>
      e.keyword === 'additionalProperties'
        ? `${e.instancePath}/${String(e.params.additionalProperty)} is not a config key`
        : `${e.instancePath || '/'} ${e.message ?? ''}`.trim(),
    );
    throw new UsageError(
      `${source} is invalid: ${problems.join('; ')}; see the runner README for the config keys`,
    );
  }
  const config = copy as unknown as WorkerConfig;
  if (!config.workerId) config.workerId = hostname();
  if (!config.taskQueueId) config.taskQueueId = `${config.provisionerId}/${config.workerType}`;
  if (!config.workDir) config.workDir = join(tmpdir(), 'docker-worker');
  // The last docker-worker's names for the same settings.
  if (config.dockerConfig.allowPrivileged) config.capabilities.privileged = true;
  if (!config.instanceType) config.instanceType = config.workerNodeType;
  if (ignoredKeys.length > 0) config.ignoredKeys = ignoredKeys;
  return config;
}

/** Reads a YAML or JSON config file. */
export async function loadConfig(file?: string): Promise<WorkerConfig> {
  if (!file) return buildConfig({});
  const parsed = await readYamlFile(
    file,
    'config file',
    'give --config the path of a YAML or JSON worker config',
  );
  return buildConfig(parsed ?? {}, `config file ${file}`);
}
