/**
 * @module features/feature
 * The one small interface every concern implements (generic-worker's Feature/TaskFeature folded
 * into one object), what `start` may contribute to the task container, and the per-run context.
 */
import type { Logger } from 'pino';
import type { ArtifactSink } from '../artifacts/sink.js';
import type { Clock } from '../clock.js';
import type { WorkerConfig } from '../config.js';
import type { DockerClient, NetworkInfo } from '../docker/docker-client.js';
import type { Role } from '../docker/labels.js';
import type { TaskError, Resolution } from '../errors.js';
import type { LiveLog } from '../live-log-stream.js';
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
  /** The first error, when there was one. */
  error?: TaskError;
}

export interface TaskRun {
  readonly task: TaskDefinition;
  readonly config: WorkerConfig;
  readonly docker: DockerClient;
  readonly clock: Clock;
  /** Operator log (pino). */
  readonly log: Logger;
  /** Task author's log. */
  readonly liveLog: LiveLog;
  readonly artifacts: ArtifactSink;
  /** Credentials for the taskcluster proxy (task credentials in queue mode, TASKCLUSTER_* locally). */
  readonly credentials?: Credentials;
  readonly rootUrl: string;
  /** Aborted by max-run-time, cancellation or worker shutdown; the reason is a TaskError. */
  readonly signal: AbortSignal;
  abort(reason: TaskError): void;
  /** The per-task network, once created. */
  readonly network: NetworkInfo;
  readonly startedAt: number;
  /** Container id of the task, once created. */
  readonly containerId: string | undefined;
  readonly exitCode: number | undefined;
  labels(role: Role, extra?: Record<string, string>): Record<string, string>;
  /** Runs after every container and the network are removed (e.g. purging cache volumes). */
  afterCleanup(fn: () => Promise<void>): void;
  /** Queue mode: called when the run's credentials change; returns the unsubscribe. */
  onCredentials(fn: (credentials: Credentials) => void): () => void;
}

export interface Feature {
  /** The payload key (`taskclusterProxy`) or the concern (`maxRunTime`). */
  name: string;
  /** Worker-level switch. */
  isEnabled(config: WorkerConfig): boolean;
  /** Whether this task asks for it (payload.features.<name>, payload fields). */
  isRequested(task: TaskDefinition): boolean;
  /** Any-of (outer) all-of (inner) scope sets; checked before `start`. */
  requiredScopes?(task: TaskDefinition, config: WorkerConfig): string[][];
  start(run: TaskRun): Promise<Contribution | void>;
  /** Always called, in reverse order, also when `start` threw. */
  stop(run: TaskRun, outcome: Outcome): Promise<void>;
}
