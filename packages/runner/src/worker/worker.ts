/**
 * @module worker/worker
 * Queue mode's claim loop: at most `capacity` runs at once; `claimWork` (a long poll) asks for
 * the free slots only (≤ 32; never more than the free exclusive devices, `devices/`); a short
 * sleep (`pollingIntervalMs`) only when the queue gave nothing;
 * no claim while the engine does not answer or its data root has less free space than the
 * threshold (each said once). At start it sweeps what a crashed predecessor left. A reported
 * run's slot is free at once; its removal (`ClaimedRun.removed`) is awaited before the image GC
 * and before `run()` returns. `stop()` stops claiming at once; `shutdown()` lets running tasks
 * finish for `graceSeconds`, then aborts the rest as worker-shutdown.
 */
import { devicesFor } from '../devices/index.js';
import { sweepLeftovers } from '../docker/labels.js';
import { workerShutdown } from '../errors.js';
import type { Credentials } from '../features/feature.js';
import { statfsFree } from '../gc/free-space.js';
import { ClaimedRun, type ClaimDeps, type ClaimResult } from './claim.js';
import { reportOutcome } from './resolve.js';
import type { Claim } from './taskcluster.js';

/** What a claimed run needs (`ClaimDeps`), plus the worker's own credentials and its hooks. */
export interface WorkerDeps extends Omit<ClaimDeps, 'secrets'> {
  /** The worker's own credentials (claimWork). */
  credentials: Credentials;
  /** Free bytes of a file system (default: statfs). */
  freeBytes?: (path: string) => Promise<number>;
  /** Told whenever the numbers change (the CLI's status line). */
  onStatus?: (status: WorkerStatus) => void;
  /** Awaited before a claim while no task runs (the image GC, `gc/between-tasks.ts`). */
  betweenTasks?: (state: { diskShort: boolean }) => Promise<void>;
  /** Awaited before every claim, with the worker's credentials (the purge-cache poll, `caches/purge-requests.ts`). */
  beforeClaim?: (credentials: Credentials) => Promise<void>;
}

export interface WorkerStatus {
  running: number;
  capacity: number;
  done: number;
  failed: number;
}

const MAX_CLAIM = 32;
const ERROR_BACKOFF_MS = 5_000;

export class Worker {
  private readonly running = new Map<string, ClaimedRun>();
  /** Runs reported whose containers are still being removed (they hold no capacity). */
  private readonly removing = new Map<string, Promise<boolean>>();
  private readonly stopper = new AbortController();
  private readonly results: ClaimResult[] = [];
  private lowDiskSaid = false;
  private engineDownSaid = false;
  /**
   * A run's clean-up may have failed (it ended in an exception, or the engine went away): this
   * process's leftovers are swept before the next claim.
   */
  private sweepOwed = false;
  private counts = { done: 0, failed: 0 };
  /** Since when nothing has run: the last claim, or the end of the last run. */
  private idleSince = 0;

  private credentials: Credentials;

  constructor(private readonly deps: WorkerDeps) {
    this.credentials = deps.credentials;
  }

  /** The worker's own credentials changed (worker-runner renewed them): later claims use them; running tasks keep theirs. */
  setCredentials(credentials: Credentials): void {
    this.credentials = credentials;
    this.deps.log.info({ clientId: credentials.clientId }, 'worker credentials renewed');
  }

  /** Runs until `stop()`/`shutdown()` (or, with `once`, until one task ran); resolves with the results. */
  async run(opts: { once?: boolean } = {}): Promise<ClaimResult[]> {
    const { deps } = this;
    const { config, clock, log } = deps;
    const swept = await sweepLeftovers(deps.docker, config.workerId);
    if (swept > 0) log.info({ swept }, 'removed resources left by an earlier worker process');
    // Their networks are gone now: so can their firewall rules be.
    await deps.firewall
      ?.sweep()
      .catch((err: unknown) => log.warn({ err: String(err) }, 'firewall sweep failed'));
    let queue = deps.clients.queue(this.credentials);
    let queueFor = this.credentials;
    const signal = this.stopper.signal;
    this.idleSince = clock.now();
    const capacity = opts.once ? 1 : config.capacity;
    let claimed = 0;
    while (!signal.aborted && !(opts.once && claimed > 0)) {
      // Never more tasks than free exclusive devices (loopback video/audio, restrictCPU cores).
      const free = Math.min(capacity - this.running.size, devicesFor(config).claimable());
      if (free <= 0) {
        if (this.running.size > 0) await this.untilOneEnds();
        else await clock.sleep(config.pollingIntervalMs, signal).catch(() => undefined);
        continue;
      }
      let ready = await this.engineAnswers();
      // Between tasks (none running, none being removed): the image GC, before the disk check it may satisfy.
      if (ready && this.running.size === 0 && this.removing.size === 0)
        await deps.betweenTasks?.({ diskShort: this.lowDiskSaid });
      ready = ready && (await this.enoughDisk());
      if (ready && this.sweepOwed) await this.sweepOwn();
      if (!ready) {
        await clock.sleep(config.pollingIntervalMs, signal).catch(() => undefined);
        continue;
      }
      await deps.beforeClaim?.(this.credentials);
      if (queueFor !== this.credentials) {
        queueFor = this.credentials; // new-credentials from worker-runner: claim with them from now on
        queue = deps.clients.queue(queueFor);
      }
      let claims: Claim[];
      try {
        ({ tasks: claims } = await queue.claimWork(config.taskQueueId, {
          workerGroup: config.workerGroup,
          workerId: config.workerId,
          tasks: Math.min(free, MAX_CLAIM),
        }));
      } catch (err) {
        log.warn({ err: String(err) }, 'claimWork failed; trying again');
        await clock.sleep(ERROR_BACKOFF_MS, signal).catch(() => undefined);
        continue;
      }
      if (signal.aborted) {
        // Stopped while the long poll was out: hand back what it brought, for another worker.
        await Promise.all(claims.map((c) => this.giveBack(c)));
        break;
      }
      if (claims.length === 0) {
        if (this.running.size === 0 && this.idleTooLong()) {
          log.info({ afterIdleSeconds: config.shutdown.afterIdleSeconds }, 'idle: shutting down');
          break;
        }
        await clock.sleep(config.pollingIntervalMs, signal).catch(() => undefined);
        continue;
      }
      for (const claim of claims) {
        claimed++;
        this.start(claim);
      }
      this.idleSince = clock.now();
    }
    while (this.running.size > 0) await this.untilOneEnds();
    await Promise.all(this.removing.values());
    // What a failed clean-up left goes before the process does (the start-up sweep of the next
    // process would otherwise be the first to see it).
    if (
      this.sweepOwed &&
      (await this.deps.docker.ping().then(
        () => true,
        () => false,
      ))
    )
      await this.sweepOwn();
    return [...this.results];
  }

  /** Stops claiming at once; running tasks go on. */
  stop(): void {
    this.stopper.abort();
  }

  /** Stops claiming; running tasks may finish for `graceSeconds`, then resolve exception/worker-shutdown. */
  async shutdown(graceSeconds: number): Promise<void> {
    this.stop();
    if (this.running.size === 0) return;
    const { clock, log } = this.deps;
    log.warn({ running: this.running.size, graceSeconds }, 'shutting down');
    if (graceSeconds > 0) {
      const all = Promise.all([...this.running.values()].map((r) => r.done));
      // The grace sleep is cancelled when the tasks end first: a pending timer kept the process
      // alive for the rest of the grace after its last task.
      const grace = new AbortController();
      const sleep = clock.sleep(graceSeconds * 1000, grace.signal).catch(() => undefined);
      await Promise.race([all, sleep]);
      grace.abort();
    }
    for (const run of this.running.values())
      run.abort(workerShutdown('Task has been aborted prematurely. Reason: worker-shutdown'));
  }

  get status(): WorkerStatus {
    return { running: this.running.size, capacity: this.deps.config.capacity, ...this.counts };
  }

  private start(claim: Claim): void {
    const { deps } = this;
    const { accessToken, certificate } = this.credentials;
    const expand = deps.clients.expandScopes?.bind(deps.clients);
    const run = new ClaimedRun(claim, {
      ...deps,
      secrets: [accessToken, ...(certificate ? [certificate] : [])],
      // With the worker's credentials of the moment (worker-runner may renew them).
      ...(expand ? { expandScopes: (scopes: string[]) => expand(this.credentials, scopes) } : {}),
    });
    const key = `${run.taskId}/${run.runId}`;
    deps.log.info({ taskId: run.taskId, runId: run.runId }, 'claimed');
    this.running.set(key, run);
    this.report();
    void run.done.then((result) => {
      this.running.delete(key);
      this.removing.set(key, run.removed);
      void run.removed.then((ok) => {
        this.removing.delete(key);
        if (!ok) this.sweepOwed = true;
      });
      // Idle time counts from the end of the last run (not from its claim: a worker whose long
      // task just ended is not idle yet).
      this.idleSince = deps.clock.now();
      this.results.push(result);
      if (result.outcome.state === 'completed') this.counts.done++;
      else this.counts.failed++;
      if (result.outcome.state === 'exception') this.sweepOwed = true;
      this.report();
    });
  }

  private report(): void {
    this.deps.onStatus?.(this.status);
  }

  private async untilOneEnds(): Promise<void> {
    const ends = [...this.running.values()].map((r) => r.done.then(() => undefined));
    if (ends.length > 0) await Promise.race(ends);
  }

  private idleTooLong(): boolean {
    const limit = this.deps.config.shutdown.afterIdleSeconds;
    return limit > 0 && this.deps.clock.now() - this.idleSince >= limit * 1000;
  }

  /** A claim taken while stopping: resolved worker-shutdown at once, so the queue retries it. */
  private async giveBack(claim: Claim): Promise<void> {
    const { deps } = this;
    await reportOutcome(
      {
        state: 'exception',
        reasonResolved: 'worker-shutdown',
        exitCode: null,
        durationMs: 0,
      },
      {
        taskId: claim.status.taskId,
        runId: claim.runId,
        queue: () => deps.clients.queue(claim.credentials),
        clock: deps.clock,
        log: deps.log,
        until: Date.parse(claim.takenUntil),
      },
    );
  }

  /**
   * Whether the engine answers a ping; says so once when it does not (and once when it does
   * again). A task claimed while the engine is down (restarting, crashed) would only fail.
   */
  private async engineAnswers(): Promise<boolean> {
    const { log, docker } = this.deps;
    const up = await docker.ping().then(
      () => true,
      (err: unknown) => {
        if (!this.engineDownSaid)
          log.warn({ error: (err as Error).message }, 'not claiming: the Docker engine does not answer');
        return false;
      },
    );
    if (up && this.engineDownSaid) log.info('the Docker engine answers again: claiming again');
    if (!up) this.sweepOwed = true;
    this.engineDownSaid = !up;
    return up;
  }

  /** Removes this worker's resources of runs no longer going (what a failed clean-up left). */
  private async sweepOwn(): Promise<void> {
    const { deps } = this;
    try {
      const active = new Set([...this.running.keys(), ...this.removing.keys()]);
      const swept = await sweepLeftovers(deps.docker, deps.config.workerId, active);
      if (swept > 0) deps.log.info({ swept }, 'removed resources an earlier run could not remove');
      this.sweepOwed = false;
    } catch (err) {
      deps.log.warn({ err: String(err) }, 'sweep of leftovers failed; trying again before the next claim');
    }
  }

  /** Whether the engine's data root has room; says so once when it has not (and once when it has again). */
  private async enoughDisk(): Promise<boolean> {
    const { deps } = this;
    const threshold = deps.config.capacityManagement.diskspaceThreshold;
    if (threshold <= 0) return true;
    let free: number;
    try {
      const root = await deps.docker.dataRoot();
      free = await (deps.freeBytes ?? statfsFree)(root);
    } catch (err) {
      deps.log.debug({ err: String(err) }, 'free disk space unknown; claiming anyway');
      return true;
    }
    const enough = free >= threshold;
    if (!enough && !this.lowDiskSaid)
      deps.log.warn(
        { free, threshold },
        'not claiming: free space on the engine data root is below capacityManagement.diskspaceThreshold',
      );
    if (enough && this.lowDiskSaid)
      deps.log.info({ free, threshold }, 'free disk space is back: claiming again');
    this.lowDiskSaid = !enough;
    return enough;
  }
}
