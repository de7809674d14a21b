/**
 * @module queue/model
 * The queue's task and run records and the `status` structure it answers with (PROTOCOLS.md §3.1).
 */
export type RunState = 'pending' | 'running' | 'completed' | 'failed' | 'exception';
export type TaskState = RunState | 'unscheduled';
export type ReasonCreated = 'scheduled' | 'retry' | 'task-retry' | 'rerun' | 'exception';

export interface Run {
  runId: number;
  state: RunState;
  reasonCreated: ReasonCreated;
  reasonResolved?: string;
  workerGroup?: string;
  workerId?: string;
  takenUntil?: string;
  scheduled: string;
  started?: string;
  resolved?: string;
}

/** A task definition as the queue stores it, defaults filled in. */
export interface TaskDef {
  provisionerId: string;
  workerType: string;
  taskQueueId: string;
  schedulerId: string;
  projectId: string;
  taskGroupId: string;
  dependencies: string[];
  requires: 'all-completed' | 'all-resolved';
  routes: string[];
  priority: string;
  retries: number;
  created: string;
  deadline: string;
  expires: string;
  scopes: string[];
  payload: Record<string, unknown>;
  metadata: Record<string, unknown>;
  tags: Record<string, string>;
  extra: Record<string, unknown>;
}

export interface TaskRecord {
  taskId: string;
  def: TaskDef;
  runs: Run[];
  retriesLeft: number;
  /** Order in which the latest run became pending (FIFO within a priority). */
  pendingSeq: number;
}

export interface TaskStatus {
  taskId: string;
  provisionerId: string;
  workerType: string;
  taskQueueId: string;
  schedulerId: string;
  projectId: string;
  taskGroupId: string;
  deadline: string;
  expires: string;
  retriesLeft: number;
  state: TaskState;
  runs: Run[];
}

export function latestRun(task: TaskRecord): Run | undefined {
  return task.runs[task.runs.length - 1];
}

export function isResolved(state: TaskState): boolean {
  return state === 'completed' || state === 'failed' || state === 'exception';
}

export function statusOf(task: TaskRecord): TaskStatus {
  const { def } = task;
  return {
    taskId: task.taskId,
    provisionerId: def.provisionerId,
    workerType: def.workerType,
    taskQueueId: def.taskQueueId,
    schedulerId: def.schedulerId,
    projectId: def.projectId,
    taskGroupId: def.taskGroupId,
    deadline: def.deadline,
    expires: def.expires,
    retriesLeft: task.retriesLeft,
    state: latestRun(task)?.state ?? 'unscheduled',
    runs: structuredClone(task.runs),
  };
}
