/**
 * @module features/feature
 * The one small interface every concern implements (generic-worker's Feature/TaskFeature folded
 * into one object): `start(run)` returns a per-run handle that owns its state, what it contributes
 * to the task container, and its `stop`. Features never keep per-run state in module globals.
 */
import type { WorkerConfig } from '../config.js';
import type { TaskError, Resolution } from '../errors.js';
import type { TaskRun } from '../run-context.js';
import type { TaskDefinition } from '../task.js';

/** What a feature adds to the task container. The lifecycle merges contributions in feature order. */
export interface Contribution {
  /** Feature variables (lowest precedence), e.g. TASKCLUSTER_PROXY_URL. */
  env?: Record<string, string>;
  /** The task's own variables: payload.env, then decrypted encryptedEnv. */
  taskEnv?: Record<string, string>;
  /** Reserved variables (TASK_ID, RUN_ID, ...): override anything the task sets. */
  reservedEnv?: Record<string, string>;
  /** The image id to run (from the image feature). */
  image?: string;
  cmd?: string[];
  /** `volume:/path` binds (caches). Never the Docker socket. */
  binds?: string[];
  /** `/dev/x` or `/dev/x:/dev/y`. */
  devices?: string[];
  capAdd?: string[];
  privileged?: boolean;
  extraHosts?: string[];
  /** `seccomp=unconfined` and the like (`HostConfig.SecurityOpt`), added to the worker's own. */
  securityOpt?: string[];
  /** restrictCPU: the task's core (`HostConfig.CpusetCpus`). */
  cpusetCpus?: string;
}

/** Taskcluster credentials a feature may hand on (the proxy signs with them). */
export interface Credentials {
  clientId: string;
  accessToken: string;
  certificate?: string;
}

export interface Outcome {
  state: 'completed' | 'failed' | 'exception';
  /** `completed`, `failed`, or the exception reason. */
  reasonResolved: 'completed' | Resolution;
  exitCode: number | null;
  durationMs: number;
  /** The task container, once it was created (artifacts are copied out of it). */
  containerId?: string;
  /** The first error, when there was one. */
  error?: TaskError;
  /**
   * The run was cancelled (queue mode: a reclaim answered 409). Nothing more is uploaded or
   * reported for it; the stops only release what they hold.
   */
  canceled?: boolean;
}

/** One feature's part in one run: created by `start`, owning whatever that run needs later. */
export interface FeatureRun {
  contribution?: Contribution;
  /**
   * Settles when what the feature started is ready for the task (a sidecar answers). The lifecycle
   * starts the next features and creates the task container meanwhile, and starts the container
   * only once every `ready` has resolved; a rejection fails the run like a failed `start`.
   */
  ready?: Promise<void>;
  /** Called once the container has ended (or the start failed), in reverse start order. */
  stop?(outcome: Outcome): Promise<void>;
  /**
   * Called after every container and the network of the run are removed, in reverse start order
   * (purging cache volumes). A handle with this hook makes the run wait for its removal before
   * `finish`, also in queue mode.
   */
  afterCleanup?(outcome: Outcome): Promise<void>;
  /**
   * The run's last step, in reverse start order, after `stop` and any `afterCleanup` (the live
   * log's footer and its upload). Locally the run's containers are gone by then; in queue mode,
   * unless a handle has `afterCleanup`, they are being removed meanwhile and the outcome is
   * reported without waiting for it (docker-worker removed them after the resolution too).
   */
  finish?(outcome: Outcome): Promise<void>;
}

export interface Feature {
  /** The payload key (`taskclusterProxy`) or the concern (`maxRunTime`). */
  name: string;
  /** Worker-level switch. */
  isEnabled(config: WorkerConfig): boolean;
  /**
   * The worker config key(s) that switch it on, named when a task asks for it on a worker where
   * it is off (default `features.<name>.enabled`).
   */
  configKey?: string;
  /** Whether this task asks for it (payload.features.<name>, payload fields). */
  isRequested(task: TaskDefinition): boolean;
  /** Any-of (outer) all-of (inner) scope sets; checked before `start`. */
  requiredScopes?(task: TaskDefinition, config: WorkerConfig): string[][];
  /** Starts the feature for one run; what it returns is that run's handle. */
  start(run: TaskRun): Promise<FeatureRun | void>;
}

export type { TaskRun };
