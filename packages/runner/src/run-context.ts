/**
 * @module run-context
 * The per-run context features receive (`TaskRun`): the task, the injected dependencies, one
 * AbortController, the per-task network, labels, and the state the lifecycle fills in.
 */
import type { Logger } from 'pino';
import type { ArtifactSink } from './artifacts/sink.js';
import type { Clock } from './clock.js';
import type { WorkerConfig } from './config.js';
import { SpecBuilder } from './container-spec.js';
import type { DockerClient, NetworkInfo } from './docker/docker-client.js';
import { processOwner, removeRun, runLabels, type Role, type RunIdentity } from './docker/labels.js';
import { internalError, type TaskError } from './errors.js';
import type { Credentials, TaskRun } from './features/feature.js';
import type { LiveLog } from './live-log-stream.js';
import type { TaskDefinition } from './task.js';

export interface RunDeps {
  docker: DockerClient;
  clock: Clock;
  log: Logger;
  config: WorkerConfig;
  artifacts: ArtifactSink;
  liveLog: LiveLog;
  credentials?: Credentials;
  rootUrl?: string;
}

export class RunContext implements TaskRun {
  readonly docker: DockerClient;
  readonly clock: Clock;
  readonly log: Logger;
  readonly config: WorkerConfig;
  readonly artifacts: ArtifactSink;
  readonly liveLog: LiveLog;
  readonly credentials?: Credentials;
  readonly rootUrl: string;
  readonly startedAt: number;
  readonly spec = new SpecBuilder();
  readonly identity: RunIdentity;
  containerId: string | undefined;
  exitCode: number | undefined;
  private readonly controller = new AbortController();
  private readonly cleanups: Array<() => Promise<void>> = [];
  private readonly credentialListeners = new Set<(c: Credentials) => void>();
  private net: NetworkInfo | undefined;

  constructor(
    readonly task: TaskDefinition,
    deps: RunDeps,
  ) {
    ({
      docker: this.docker,
      clock: this.clock,
      config: this.config,
      artifacts: this.artifacts,
      liveLog: this.liveLog,
    } = deps);
    this.credentials = deps.credentials;
    this.rootUrl = deps.rootUrl ?? deps.config.rootUrl;
    this.log = deps.log.child({ taskId: task.taskId, runId: task.runId });
    this.startedAt = deps.clock.now();
    this.identity = {
      workerId: deps.config.workerId,
      taskId: task.taskId,
      runId: task.runId,
      owner: processOwner(),
    };
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  abort(reason: TaskError): void {
    if (!this.controller.signal.aborted) this.controller.abort(reason);
  }

  get network(): NetworkInfo {
    if (!this.net) throw internalError('the task network is not created yet');
    return this.net;
  }

  get networkName(): string {
    return `tc-${this.task.taskId}-${this.task.runId}`;
  }

  labels(role: Role, extra?: Record<string, string>): Record<string, string> {
    return runLabels(this.identity, role, extra);
  }

  async createNetwork(): Promise<void> {
    this.net = await this.docker.createNetwork(this.networkName, this.labels('network'));
  }

  afterCleanup(fn: () => Promise<void>): void {
    this.cleanups.push(fn);
  }

  onCredentials(fn: (credentials: Credentials) => void): () => void {
    this.credentialListeners.add(fn);
    return () => this.credentialListeners.delete(fn);
  }

  /** Queue mode: new credentials after a reclaim. */
  updateCredentials(credentials: Credentials): void {
    for (const fn of this.credentialListeners) fn(credentials);
  }

  /**
   * Removes every container, then the network, by label, then runs the afterCleanup hooks. Not
   * tied to `signal` (the run may be aborted already): it has its own timeout.
   */
  async removeEverything(): Promise<void> {
    const work = (async () => {
      const removed = await removeRun(this.docker, this.identity);
      this.log.debug({ removed }, 'run resources removed');
      for (const fn of this.cleanups) await fn();
    })();
    let cancel = (): void => undefined;
    const timeout = new Promise<never>((_, reject) => {
      cancel = this.clock.setTimer(this.config.cleanupTimeoutMs, () =>
        reject(internalError(`clean-up did not finish within ${this.config.cleanupTimeoutMs} ms`)),
      );
    });
    try {
      await Promise.race([work, timeout]);
    } finally {
      cancel();
    }
  }
}
