/**
 * @module worker/claim
 * One claimed run, from claim to report: the live log published on the worker's log server, the
 * queue sink, the reclaim timer at `(takenUntil − now) / reclaimDivisor` (each new set of task
 * credentials goes to the run: the proxy sidecar and the run's own queue calls), the lifecycle,
 * and the report. A reclaim answered 409 is a cancellation: the run is aborted at once (the
 * container is killed), nothing more is uploaded or reported. Other reclaim errors are retried
 * until shortly before `takenUntil`; only then is the run aborted as internal-error. The run's
 * containers and network are removed beside the log's upload and the report (`removed` settles
 * when they are gone), as docker-worker removed them after the resolution.
 */
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { WorkerConfig } from '../config.js';
import type { DockerClient } from '../docker/docker-client.js';
import type { HostFirewall } from '../docker/host-firewall.js';
import type { SharedNetwork } from '../docker/shared-network.js';
import { canceled, internalError, type TaskError } from '../errors.js';
import type { Feature, Outcome } from '../features/feature.js';
import { LiveLog } from '../live-log-stream.js';
import type { ImageUsage } from '../images/image-usage.js';
import { TaskRun } from '../run-context.js';
import { runTask } from '../task-run.js';
import { taskOfClaim } from './claimed-task.js';
import type { LiveLogServer } from './live-log-server.js';
import { createQueueSink } from './queue-sink.js';
import { reportOutcome, type Report } from './resolve.js';
import { statusOf, withRetries } from './retry.js';
import type { Claim, TaskclusterClients, TaskCredentials } from './taskcluster.js';

export interface ClaimDeps {
  docker: DockerClient;
  clients: TaskclusterClients;
  clock: Clock;
  log: Logger;
  config: WorkerConfig;
  features: readonly Feature[];
  liveLogServer: LiveLogServer;
  firewall?: HostFirewall;
  /** The worker's shared task network, for runs without a sidecar. */
  sharedNetwork?: SharedNetwork;
  /** Redacted from every task log (the worker's own access token and certificate). */
  secrets?: string[];
  /** The worker's record of the images it pulled or loaded (one for the worker process). */
  imageUsage?: ImageUsage;
  /** The auth service's expandScopes with the worker's credentials (the runs' `grantScopes`). */
  expandScopes?: (scopes: string[]) => Promise<string[]>;
}

export interface ClaimResult {
  taskId: string;
  runId: number;
  outcome: Outcome;
  report: Report;
}

/**
 * A reclaim's retries stop this long before takenUntil (a late reclaim would find the claim
 * expired), or a third of the time left when it starts if that is shorter: with a short claim
 * (6 s in a test, reclaimed 3 s before it ends) a fixed 5 s left no retry at all, and one reset
 * connection cost the run.
 */
const RECLAIM_MARGIN_MS = 5_000;
const reclaimMargin = (left: number): number => Math.min(RECLAIM_MARGIN_MS, Math.max(0, left) / 3);

export class ClaimedRun {
  readonly taskId: string;
  readonly runId: number;
  readonly done: Promise<ClaimResult>;
  /**
   * Settles (never rejects) once the run's containers and network are removed, after `done`:
   * false when the removal failed (logged; the worker sweeps before its next claim).
   */
  readonly removed: Promise<boolean>;
  private run: TaskRun | undefined;
  private pendingAbort: TaskError | undefined;

  constructor(claim: Claim, deps: ClaimDeps) {
    this.taskId = claim.status.taskId;
    this.runId = claim.runId;
    this.done = this.execute(claim, deps).catch((err: unknown) => this.failed(claim, deps, err));
    const removal = (): Promise<boolean> => this.removal(deps);
    this.removed = this.done.then(removal, removal);
  }

  private async removal(deps: ClaimDeps): Promise<boolean> {
    const log = deps.log.child({ taskId: this.taskId, runId: this.runId });
    try {
      await this.run?.removeEverything();
      log.info('run removed');
      return true;
    } catch (err) {
      log.warn({ err: String(err) }, 'removing the run failed; sweeping before the next claim');
      return false;
    }
  }

  /** A worker fault outside the lifecycle (e.g. the work directory): resolve exception/internal-error. */
  private async failed(claim: Claim, deps: ClaimDeps, err: unknown): Promise<ClaimResult> {
    deps.log.error({ taskId: this.taskId, runId: this.runId, err }, 'run failed outside the lifecycle');
    const error = internalError(`worker error: ${(err as Error).message ?? String(err)}`, err);
    const outcome: Outcome = {
      state: 'exception',
      reasonResolved: 'internal-error',
      exitCode: null,
      durationMs: 0,
      error,
    };
    const report = await reportOutcome(outcome, {
      taskId: this.taskId,
      runId: this.runId,
      queue: () => deps.clients.queue(claim.credentials),
      clock: deps.clock,
      log: deps.log,
      until: Date.parse(claim.takenUntil),
    });
    return { taskId: this.taskId, runId: this.runId, outcome, report };
  }

  /** Aborts the run (worker shutdown): it resolves with `reason`, logs uploaded. */
  abort(reason: TaskError): void {
    if (this.run) this.run.abort(reason);
    else this.pendingAbort ??= reason;
  }

  private async execute(claim: Claim, deps: ClaimDeps): Promise<ClaimResult> {
    const { clock, config, clients } = deps;
    const task = taskOfClaim(claim);
    const log = deps.log.child({ taskId: task.taskId, runId: task.runId });
    let credentials: TaskCredentials = claim.credentials;
    let takenUntil = Date.parse(claim.takenUntil);
    const queue = () => clients.queue(credentials);
    // The sink first: its spool directory proves the work directory usable. (The live log's file
    // stream has no 'error' listener: opening it in a missing directory crashed the worker.)
    const sink = await createQueueSink({
      taskId: task.taskId,
      runId: task.runId,
      queue,
      clients,
      storageType: config.artifacts.storageType,
      concurrency: config.artifacts.uploadConcurrency,
      workDir: config.workDir,
      clock,
      log,
      until: () => takenUntil,
    });
    const liveLog = new LiveLog(join(config.workDir, `${task.taskId}-${task.runId}-live.log`), clock);
    const published = deps.liveLogServer.publish(liveLog);
    const run = new TaskRun(task, {
      docker: deps.docker,
      clock,
      log: deps.log,
      config,
      artifacts: sink,
      liveLog,
      credentials,
      rootUrl: config.rootUrl,
      liveLogUrl: published.url,
      secrets: deps.secrets ?? [],
      ...(deps.firewall ? { firewall: deps.firewall } : {}),
      ...(deps.sharedNetwork ? { sharedNetwork: deps.sharedNetwork } : {}),
      ...(deps.imageUsage ? { imageUsage: deps.imageUsage } : {}),
      ...(deps.expandScopes ? { expandScopes: deps.expandScopes } : {}),
    });
    this.run = run;
    if (this.pendingAbort) run.abort(this.pendingAbort);

    // Reclaims, each scheduled from the last takenUntil, until the run ends.
    let ended = false;
    /** Set by a reclaim answered 409: whatever stage the run was in, nothing is reported for it. */
    let cancellation: TaskError | undefined;
    // Ends a reclaim's retries when the run ends: else they went on (timers and reclaimTask calls)
    // until shortly before takenUntil, keeping even a `--once` worker alive for minutes.
    const reclaims = new AbortController();
    let cancelTimer = (): void => undefined;
    let due = 0;
    const schedule = (): void => {
      const delay = Math.max(0, (takenUntil - clock.now()) / config.reclaimDivisor);
      due = clock.now() + delay;
      cancelTimer = clock.setTimer(delay, () => void reclaim());
    };
    const reclaim = async (): Promise<void> => {
      // A stalled process (or host) shows here before it costs the claim.
      const lateMs = clock.now() - due;
      if (lateMs > 1000)
        log.warn({ lateMs }, 'the reclaim timer fired late (the worker process was held up)');
      try {
        const next = await withRetries(() => queue().reclaimTask(task.taskId, String(task.runId)), {
          clock,
          until: takenUntil - reclaimMargin(takenUntil - clock.now()),
          signal: reclaims.signal,
          onRetry: (err, attempt, delayMs) =>
            log.warn({ err: String(err), attempt, delayMs }, 'reclaim failed; retrying'),
        });
        if (ended) return;
        takenUntil = Date.parse(next.takenUntil);
        credentials = next.credentials;
        log.info({ takenUntil: next.takenUntil, clientId: credentials.clientId }, 'reclaimed');
        run.updateCredentials(credentials);
        schedule();
      } catch (err) {
        if (ended) return;
        if (statusOf(err) === 409) {
          log.warn({ err: String(err) }, 'reclaim answered 409: the run was cancelled or resolved elsewhere');
          cancellation = canceled(
            'Task was canceled by another entity. This can happen when a task is cancelled or its claim is taken over.',
          );
          run.abort(cancellation);
        } else {
          log.error({ err: String(err) }, 'could not reclaim the task before its claim expires');
          run.abort(internalError(`the worker could not reclaim the task: ${(err as Error).message}`, err));
        }
      }
    };
    schedule();

    log.info({ takenUntil: claim.takenUntil }, 'task started');
    let outcome: Outcome;
    try {
      outcome = await runTask(run, deps.features, { deferCleanup: true });
    } finally {
      ended = true;
      cancelTimer();
      reclaims.abort();
      published.unpublish();
      await liveLog.close();
      if (liveLog.writeError)
        log.warn({ err: liveLog.writeError.message }, 'the live log file stopped taking writes (disk full?)');
      await sink.close();
    }
    if (cancellation && outcome.reasonResolved !== 'canceled') {
      // Cancelled in a stage that does not look at the abort signal (an image pull, artifact
      // uploads after the container ended): the run is still cancelled, and never reported.
      log.info(
        { was: outcome.reasonResolved ?? outcome.state },
        'cancelled while the run ended: not reporting it',
      );
      outcome = {
        ...outcome,
        state: 'exception',
        reasonResolved: 'canceled',
        error: cancellation,
        canceled: true,
      };
    }
    const resolved = outcome;
    const report = await run.stages.time('resolve', () =>
      reportOutcome(resolved, {
        taskId: task.taskId,
        runId: task.runId,
        queue,
        clock,
        log,
        until: takenUntil,
      }),
    );
    log.info({ report, durationMs: outcome.durationMs, exitCode: outcome.exitCode }, 'task resolved');
    return { taskId: task.taskId, runId: task.runId, outcome, report };
  }
}
