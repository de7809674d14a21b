/**
 * @module features/env
 * payload.env as the task's variables, then the reserved variables that override anything the
 * task sets (TASK_ID, RUN_ID, TASKCLUSTER_ROOT_URL, worker group/id/type, task queue id).
 */
import type { Feature, TaskRun } from './feature.js';

export function reservedEnv(run: Pick<TaskRun, 'task' | 'config' | 'rootUrl'>): Record<string, string> {
  const { config, task } = run;
  const env: Record<string, string> = {
    TASK_ID: task.taskId,
    RUN_ID: String(task.runId),
    TASKCLUSTER_WORKER_GROUP: config.workerGroup,
    TASKCLUSTER_WORKER_ID: config.workerId,
    TASKCLUSTER_WORKER_TYPE: config.workerType,
    TASKCLUSTER_TASK_QUEUE_ID: config.taskQueueId,
  };
  if (run.rootUrl) env.TASKCLUSTER_ROOT_URL = run.rootUrl;
  return env;
}

export const env: Feature = {
  name: 'env',
  isEnabled: () => true,
  isRequested: () => true,
  async start(run) {
    return {
      taskEnv: { ...(run.task.payload.env ?? {}) },
      reservedEnv: reservedEnv(run),
      cmd: run.task.payload.command,
    };
  },
  async stop() {},
};
