/**
 * @module reserved-env
 * The variables the worker sets in every task container, overriding anything the task sets
 * (TASK_ID, RUN_ID, TASKCLUSTER_ROOT_URL, worker group/id/type, task queue id, and those the last
 * docker-worker set: TASKCLUSTER_WORKER_POOL, TASKCLUSTER_INSTANCE_TYPE, TASKCLUSTER_PUBLIC_IP,
 * TASKCLUSTER_WORKER_LOCATION, always present, empty when the config does not know them). The env
 * feature gives them to the container; encrypted env refuses to set them.
 */
import type { TaskRun } from './run-context.js';

export function reservedEnv(run: Pick<TaskRun, 'task' | 'config' | 'rootUrl'>): Record<string, string> {
  const { config, task } = run;
  const env: Record<string, string> = {
    TASK_ID: task.taskId,
    RUN_ID: String(task.runId),
    TASKCLUSTER_WORKER_GROUP: config.workerGroup,
    TASKCLUSTER_WORKER_ID: config.workerId,
    TASKCLUSTER_WORKER_TYPE: config.workerType,
    TASKCLUSTER_TASK_QUEUE_ID: config.taskQueueId,
    TASKCLUSTER_WORKER_POOL: config.taskQueueId,
    TASKCLUSTER_INSTANCE_TYPE: config.instanceType ?? '',
    TASKCLUSTER_PUBLIC_IP: config.publicIp ?? '',
    TASKCLUSTER_WORKER_LOCATION: config.workerLocation ?? '',
  };
  if (run.rootUrl) env.TASKCLUSTER_ROOT_URL = run.rootUrl;
  return env;
}
