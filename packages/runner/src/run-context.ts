/**
 * @module run-context
 * `TaskRun`, the per-run context every feature receives: the task, the injected dependencies, one
 * AbortController, the per-task network (created on first use), labels and the run's credentials.
 * Features keep their own per-run state in the handle their `start` returns, never here.
 */
import type { Logger } from 'pino';
import type { ArtifactSink } from './artifacts/sink.js';
import type { Clock } from './clock.js';
import type { WorkerConfig } from './config.js';
import type { DockerClient, NetworkInfo } from './docker/docker-client.js';
import type { FirewallHandle, HostFirewall } from './docker/host-firewall.js';
import type { SharedNetwork } from './docker/shared-network.js';
import type { ImageUsage } from './images/image-usage.js';
import { processOwner, removeRun, runLabels, type Role, type RunIdentity } from './docker/labels.js';
import { internalError, type TaskError } from './errors.js';
import type { Credentials } from './features/feature.js';
import type { LiveLog } from './live-log-stream.js';
import { StageTimer } from './stage-timer.js';
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
  /** Queue mode: where the worker's live log server serves this run's log. */
  liveLogUrl?: string;
  /** Keeps the task container from this host's ports (absent: no such rules). */
  firewall?: HostFirewall;
  /** More values to redact from the live log (e.g. the worker's own access token in queue mode). */
  secrets?: string[];
  /**
   * The worker's shared task network (docker/shared-network.ts), for a run with no sidecar;
   * absent: every run gets a network of its own.
   */
  sharedNetwork?: SharedNetwork;
  /** Where the run's time goes (default: a new one on the run's log). */
  stages?: StageTimer;
  /** The worker's record of the images it pulled or loaded (one per worker process). */
  imageUsage?: ImageUsage;
  /** The auth service's expandScopes (queue mode, with the worker's credentials): roles the task's `assume:` scopes name. */
  expandScopes?: (scopes: string[]) => Promise<string[]>;
}

const credentialSecrets = (c: Credentials | undefined): string[] =>
  c ? [c.accessToken, ...(c.certificate ? [c.certificate] : [])] : [];

export class TaskRun {
  readonly docker: DockerClient;
  readonly clock: Clock;
  readonly log: Logger;
  readonly config: WorkerConfig;
  readonly artifacts: ArtifactSink;
  readonly liveLog: LiveLog;
  readonly rootUrl: string;
  readonly liveLogUrl?: string;
  readonly startedAt: number;
  readonly identity: RunIdentity;
  /** Per-stage timing (operator log, debug). */
  readonly stages: StageTimer;
  /** The worker's record of the images it pulled or loaded (absent: nothing recorded). */
  readonly imageUsage?: ImageUsage;
  /**
   * The sha256 (hex) of the artifact the task image was loaded from (task-image, indexed-image),
   * when known: set by the image feature, certified by chainOfTrust as `imageArtifactHash`.
   */
  imageArtifactSha256?: string;
  private readonly controller = new AbortController();
  private readonly credentialListeners = new Set<(c: Credentials) => void>();
  private current: Credentials | undefined;
  private net: Promise<NetworkInfo> | undefined;
  private readonly shared: SharedNetwork | undefined;
  private usedShared = false;
  private readonly firewall: HostFirewall | undefined;
  private fence: Promise<FirewallHandle | undefined> | undefined;
  private removal: Promise<void> | undefined;
  private readonly expandScopes: ((scopes: string[]) => Promise<string[]>) | undefined;
  private expanded: Promise<readonly string[]> | undefined;

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
    this.current = deps.credentials;
    this.firewall = deps.firewall;
    this.shared = deps.sharedNetwork;
    if (deps.liveLogUrl) this.liveLogUrl = deps.liveLogUrl;
    if (deps.imageUsage) this.imageUsage = deps.imageUsage;
    this.expandScopes = deps.expandScopes;
    // Every secret the worker knows is redacted from the task's log, whoever prints it.
    for (const secret of [
      ...credentialSecrets(deps.credentials),
      ...(deps.secrets ?? []),
      deps.config.taskcluster.accessToken,
      deps.config.taskcluster.certificate,
      deps.config.testdroid.password,
      ...Object.values(deps.config.registries ?? {}).map((r) => r.password),
    ])
      if (secret) this.liveLog.addSecret(secret);
    this.rootUrl = deps.rootUrl ?? deps.config.rootUrl;
    this.log = deps.log.child({ taskId: task.taskId, runId: task.runId });
    this.stages = deps.stages ?? new StageTimer(this.log);
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

  /** Credentials for the taskcluster proxy (task credentials in queue mode, TASKCLUSTER_* locally): the latest set. */
  get credentials(): Credentials | undefined {
    return this.current;
  }

  get networkName(): string {
    return `tc-${this.task.taskId}-${this.task.runId}`;
  }

  labels(role: Role, extra?: Record<string, string>): Record<string, string> {
    return runLabels(this.identity, role, extra);
  }

  /**
   * The per-task network `tc-<taskId>-<runId>`, created (labelled) on first use by a sidecar or the
   * task container: a task that fails before either never touches the engine.
   */
  network(): Promise<NetworkInfo> {
    this.net ??= this.docker.createNetwork(this.networkName, this.labels('network')).then(async (net) => {
      // Before any container joins it: new connections from it to this host are refused.
      if (this.firewall && net.bridge) {
        this.fence = this.firewall.isolate(net.bridge, net.name);
        await this.fence;
      }
      return net;
    });
    return this.net;
  }

  /**
   * The task container's network: the run's own when a sidecar made one (the task reaches it by
   * alias there), else the worker's shared network when there is one, else the run's own.
   */
  taskNetwork(): Promise<NetworkInfo> {
    if (this.net || !this.shared) return this.network();
    this.usedShared = true;
    return this.shared();
  }

  /** Lets a sidecar at `ip` reach this host (a fake Taskcluster or a simulator on the gateway). */
  async allowHostAccess(ip: string): Promise<void> {
    await (await this.fence)?.allow(ip);
  }

  onCredentials(fn: (credentials: Credentials) => void): () => void {
    this.credentialListeners.add(fn);
    return () => this.credentialListeners.delete(fn);
  }

  /** Queue mode: new credentials after a reclaim. */
  updateCredentials(credentials: Credentials): void {
    this.current = credentials;
    for (const secret of credentialSecrets(credentials)) this.liveLog.addSecret(secret);
    for (const fn of this.credentialListeners) fn(credentials);
  }

  /**
   * Removes every container, then the network, by label. Not tied to `signal` (the run may be
   * aborted already): it has its own timeout. Nothing to do when no network was asked for (no
   * container either, then). The shared network stays. Done once: later calls share the first
   * one's promise (queue mode awaits the removal the lifecycle started).
   */
  /**
   * The task's scopes with the roles its `assume:` scopes name expanded (asked once, and only when
   * it has such a scope), which the cache and device checks use, as docker-worker's did; the
   * task's own scopes when there is no expansion or it failed (warned).
   */
  grantScopes(): Promise<readonly string[]> {
    const own = this.task.scopes;
    const expand = this.expandScopes;
    if (!expand || !own.some((s) => s.startsWith('assume:'))) return Promise.resolve(own);
    return (this.expanded ??= expand([...own]).catch((err: unknown) => {
      this.log.warn({ err: String(err) }, "expanding the task's roles failed: its own scopes are checked");
      return own;
    }));
  }

  removeEverything(): Promise<void> {
    return (this.removal ??= this.remove());
  }

  private async remove(): Promise<void> {
    if (!this.net && !this.usedShared) return;
    const work = (async () => {
      await this.net?.catch(() => undefined); // a failed creation may still have left nothing
      const removed = await removeRun(this.docker, this.identity);
      this.log.debug({ removed }, 'run resources removed');
      await (await this.fence?.catch(() => undefined))?.remove();
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
