/**
 * @module testing/worker-config
 * The generic-worker configuration worker-runner writes (`worker/genericworker`): the runner
 * config's worker config, the pool's `workerConfig` merged over it (objects merged key by key,
 * arrays concatenated, as `cfg.WorkerConfig.Merge`), then provider metadata, worker location and
 * the required settings (root URL, credentials, provisionerId/workerType, group and id) set on top.
 */

export type JsonObject = Record<string, unknown>;

export interface WorkerConfigInput {
  rootUrl: string;
  workerPoolId: string;
  workerGroup: string;
  workerId: string;
  credentials: { clientId: string; accessToken: string; certificate?: string };
  /** The runner config's `workerConfig`. */
  base: JsonObject;
  /** `registerWorker`'s `workerConfig`; `{genericWorker: {config}}` is unwrapped as upstream. */
  poolConfig: JsonObject;
  providerMetadata: JsonObject;
  workerLocation: Record<string, string>;
}

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

export function mergeConfig(a: unknown, b: unknown): unknown {
  if (isObject(a) && isObject(b)) {
    const out: JsonObject = { ...a };
    for (const [k, v] of Object.entries(b)) out[k] = k in out ? mergeConfig(out[k], v) : v;
    return out;
  }
  if (Array.isArray(a) && Array.isArray(b)) return [...(a as unknown[]), ...(b as unknown[])];
  return b;
}

/** `cfg.ParseProviderWorkerConfig` for the generic-worker implementation. */
function providerWorkerConfig(poolConfig: JsonObject): JsonObject {
  const keys = Object.keys(poolConfig);
  const inner = poolConfig.genericWorker;
  if (keys.length === 1 && isObject(inner)) return isObject(inner.config) ? inner.config : {};
  return poolConfig;
}

/** Provider metadata key → generic-worker config key (set only when the metadata has it). */
const FROM_METADATA: Record<string, string> = {
  publicIP: 'public-ipv4',
  privateIP: 'local-ipv4',
  instanceType: 'instance-type',
  instanceID: 'instance-id',
  region: 'region',
  availabilityZone: 'availability-zone',
};

export function genericWorkerConfig(i: WorkerConfigInput): JsonObject {
  let config = mergeConfig(
    structuredClone(i.base),
    structuredClone(providerWorkerConfig(i.poolConfig)),
  ) as JsonObject;
  for (const [key, md] of Object.entries(FROM_METADATA))
    if (md in i.providerMetadata) config[key] = i.providerMetadata[md];
  config.workerLocation = JSON.stringify({ cloud: 'static', ...i.workerLocation });
  config = mergeConfig(config, { workerTypeMetadata: structuredClone(i.providerMetadata) }) as JsonObject;
  const slash = i.workerPoolId.indexOf('/');
  if (slash < 0) throw new Error(`workerPoolID "${i.workerPoolId}" does not contain a slash`);
  Object.assign(config, {
    rootURL: i.rootUrl.replace(/\/+$/, ''),
    clientId: i.credentials.clientId,
    accessToken: i.credentials.accessToken,
    provisionerId: i.workerPoolId.slice(0, slash),
    workerType: i.workerPoolId.slice(slash + 1),
    workerGroup: i.workerGroup,
    workerId: i.workerId,
  });
  if (i.credentials.certificate) config.certificate = i.credentials.certificate;
  return config;
}
