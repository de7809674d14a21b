/**
 * @module queue/task-queue
 * The queue's task state machine: create, claim, reclaim, resolve, cancel, with claim expiry and
 * deadlines applied by `sweep()` (called before every request and by a periodic timer, see server.ts).
 * Conflicts and unknown ids throw the HttpError the real queue answers with.
 */
import type { IssuerCredentials, TemporaryCredentials } from '../auth/issue-credentials.js';
import { HttpError } from '../errors.js';
import { cloneJson } from '../tasks.js';
import { PRIORITIES } from '../schemas/queue.js';
import { isResolved, latestRun, statusOf } from './model.js';
import type { ReasonCreated, Run, RunState, TaskDef, TaskRecord, TaskStatus } from './model.js';
import { taskCredentials } from './task-credentials.js';

export interface TaskQueueOptions {
  now: () => number;
  claimTimeoutSeconds: number;
  issuer: IssuerCredentials;
}

export interface Claim {
  status: TaskStatus;
  runId: number;
  workerGroup: string;
  workerId: string;
  takenUntil: string;
  task: TaskDef;
  credentials: TemporaryCredentials;
}

const RETRY_REASON: Readonly<Record<string, ReasonCreated>> = {
  'worker-shutdown': 'retry',
  'intermittent-task': 'task-retry',
  'claim-expired': 'retry',
};

function priorityRank(task: TaskRecord): number {
  return PRIORITIES.indexOf(task.def.priority as (typeof PRIORITIES)[number]);
}

export class TaskQueue {
  private readonly tasks = new Map<string, TaskRecord>();
  private readonly waiters = new Set<() => void>();
  private seq = 0;

  constructor(private readonly options: TaskQueueOptions) {}

  private iso(ms = this.options.now()): string {
    return new Date(ms).toJSON();
  }

  get(taskId: string): TaskRecord | undefined {
    return this.tasks.get(taskId);
  }

  statusOf(taskId: string): TaskStatus | undefined {
    const task = this.tasks.get(taskId);
    return task && statusOf(task);
  }

  /** Stores a validated definition; the same definition again is idempotent, another one 409. */
  create(taskId: string, def: TaskDef): TaskStatus {
    const existing = this.tasks.get(taskId);
    if (existing) {
      if (JSON.stringify(existing.def) !== JSON.stringify(def))
        throw new HttpError(
          409,
          `taskId \`${taskId}\` already used by another task.\nThis could be the result of faulty idempotency!`,
          'RequestConflict',
        );
      return statusOf(existing);
    }
    const missing = def.dependencies.filter((d) => !this.tasks.has(d));
    if (missing.length > 0)
      throw new HttpError(
        400,
        `\`task.dependencies\` references non-existing tasks: ${missing.join(', ')}`,
        'InputError',
      );
    const task: TaskRecord = {
      taskId,
      def: cloneJson(def),
      runs: [],
      retriesLeft: def.retries,
      pendingSeq: 0,
    };
    this.tasks.set(taskId, task);
    if (def.dependencies.length === 0) this.schedule(task, 'scheduled');
    else this.scheduleDependents();
    return statusOf(task);
  }

  /** Claims up to `count` pending tasks of the queue, highest priority first, then oldest. */
  claim(taskQueueId: string, workerGroup: string, workerId: string, count: number): Claim[] {
    this.sweep();
    const pending = [...this.tasks.values()]
      .filter((t) => t.def.taskQueueId === taskQueueId && latestRun(t)?.state === 'pending')
      .sort((a, b) => priorityRank(a) - priorityRank(b) || a.pendingSeq - b.pendingSeq)
      .slice(0, count);
    return pending.map((task) => {
      const run = latestRun(task) as Run;
      const now = this.options.now();
      const takenUntil = now + this.options.claimTimeoutSeconds * 1000;
      Object.assign(run, { state: 'running', workerGroup, workerId, started: this.iso(now) });
      run.takenUntil = this.iso(takenUntil);
      return {
        status: statusOf(task),
        runId: run.runId,
        workerGroup,
        workerId,
        takenUntil: run.takenUntil,
        task: cloneJson(task.def),
        credentials: this.credentialsFor(task, run, takenUntil, now),
      };
    });
  }

  reclaim(taskId: string, runId: number): Omit<Claim, 'task'> {
    this.sweep();
    const { task, run } = this.find(taskId, runId);
    const now = this.options.now();
    if (Date.parse(task.def.deadline) <= now)
      throw new HttpError(
        409,
        `Task \`${taskId}\` can't be reclaimed past its deadline of ${task.def.deadline}.`,
        'RequestConflict',
      );
    if (latestRun(task) !== run || run.state !== 'running')
      throw new HttpError(
        409,
        `Run ${runId} on task \`${taskId}\` is resolved or not running.`,
        'RequestConflict',
      );
    const takenUntil = now + this.options.claimTimeoutSeconds * 1000;
    run.takenUntil = this.iso(takenUntil);
    const { workerGroup = '', workerId = '' } = run;
    return {
      status: statusOf(task),
      runId,
      workerGroup,
      workerId,
      takenUntil: run.takenUntil,
      credentials: this.credentialsFor(task, run, takenUntil, now),
    };
  }

  /** reportCompleted / reportFailed: idempotent when the run is already in that state. */
  resolve(taskId: string, runId: number, target: 'completed' | 'failed'): TaskStatus {
    this.sweep();
    const { task, run } = this.find(taskId, runId);
    if (run.state === target && run.reasonResolved === target) return statusOf(task);
    if (run.state !== 'running' || latestRun(task) !== run)
      throw new HttpError(
        409,
        `Run ${runId} of task \`${taskId}\` is not running or ${target}.`,
        'RequestConflict',
      );
    this.resolveRun(task, run, target, target);
    return statusOf(task);
  }

  reportException(taskId: string, runId: number, reason: string): TaskStatus {
    this.sweep();
    const { task, run } = this.find(taskId, runId);
    const isLatestOrRetried = task.runs.length - 1 <= runId + 1;
    if (run.state === 'exception' && run.reasonResolved === reason && isLatestOrRetried)
      return statusOf(task);
    if (run.state !== 'running' || latestRun(task) !== run)
      throw new HttpError(
        409,
        `Run ${runId} on task \`${taskId}\` is resolved or not running.`,
        'RequestConflict',
      );
    this.resolveRun(task, run, 'exception', reason);
    return statusOf(task);
  }

  /** cancelTask: the current run (or a new one) becomes exception/canceled; resolved tasks unchanged. */
  cancel(taskId: string): TaskStatus {
    this.sweep();
    const task = this.tasks.get(taskId) as TaskRecord;
    if (Date.parse(task.def.deadline) < this.options.now())
      throw new HttpError(
        409,
        `Task \`${taskId}\` can't be canceled past its deadline of ${task.def.deadline}.`,
        'RequestConflict',
      );
    this.resolveUnresolved(task, 'canceled');
    return statusOf(task);
  }

  /** Resolves expired claims (exception/claim-expired, retried) and tasks past their deadline. */
  sweep(): void {
    const now = this.options.now();
    for (const task of this.tasks.values()) {
      const run = latestRun(task);
      if (Date.parse(task.def.deadline) <= now && !isResolved(run?.state ?? 'unscheduled')) {
        this.resolveUnresolved(task, 'deadline-exceeded');
      } else if (run?.state === 'running' && Date.parse(run.takenUntil ?? '') < now) {
        this.resolveRun(task, run, 'exception', 'claim-expired');
      }
    }
  }

  /** Resolves when a run becomes pending, `ms` pass, or `signal` aborts. */
  nextPending(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.waiters.add(done);
      signal.addEventListener('abort', done);
    });
  }

  private find(taskId: string, runId: number): { task: TaskRecord; run: Run } {
    const task = this.tasks.get(taskId);
    if (!task)
      throw new HttpError(
        404,
        `Task \`${taskId}\` not found. Are you sure it was created?`,
        'ResourceNotFound',
      );
    const run = task.runs[runId];
    if (!run) throw new HttpError(404, `Run ${runId} not found on task \`${taskId}\`.`, 'ResourceNotFound');
    return { task, run };
  }

  private credentialsFor(task: TaskRecord, run: Run, takenUntil: number, now: number): TemporaryCredentials {
    const ref = {
      taskId: task.taskId,
      runId: run.runId,
      workerGroup: run.workerGroup ?? '',
      workerId: run.workerId ?? '',
    };
    return taskCredentials(this.options.issuer, ref, takenUntil, task.def.scopes, now);
  }

  private schedule(task: TaskRecord, reasonCreated: ReasonCreated): void {
    task.runs.push({ runId: task.runs.length, state: 'pending', reasonCreated, scheduled: this.iso() });
    task.pendingSeq = ++this.seq;
    for (const wake of [...this.waiters]) wake();
  }

  private resolveUnresolved(task: TaskRecord, reason: string): void {
    const run = latestRun(task);
    if (run && isResolved(run.state)) return;
    if (run) {
      this.resolveRun(task, run, 'exception', reason);
      return;
    }
    const now = this.iso();
    task.runs.push({
      runId: 0,
      state: 'exception',
      reasonCreated: 'exception',
      reasonResolved: reason,
      scheduled: now,
      resolved: now,
    });
    this.scheduleDependents();
  }

  private resolveRun(task: TaskRecord, run: Run, state: RunState, reason: string): void {
    Object.assign(run, { state, reasonResolved: reason, resolved: this.iso() });
    const retry = state === 'exception' ? RETRY_REASON[reason] : undefined;
    if (retry && task.retriesLeft > 0) {
      task.retriesLeft -= 1;
      this.schedule(task, retry);
    } else {
      this.scheduleDependents();
    }
  }

  /** Schedules unscheduled tasks whose dependencies are now satisfied (`requires`). */
  private scheduleDependents(): void {
    for (const task of this.tasks.values()) {
      if (task.runs.length > 0 || task.def.dependencies.length === 0) continue;
      const states = task.def.dependencies.map(
        (d) => latestRun(this.tasks.get(d) as TaskRecord)?.state ?? 'unscheduled',
      );
      const ready =
        task.def.requires === 'all-resolved'
          ? states.every(isResolved)
          : states.every((s) => s === 'completed');
      if (ready) this.schedule(task, 'scheduled');
    }
  }
}
