/**
 * @module task-scopes
 * `--task-id`: the task's scopes from `queue.task(taskId)` (PROTOCOLS.md §4.1), fetched once at
 * start with the proxy's own credentials through taskcluster-client, as upstream did.
 */
import type { Credentials } from './credentials.js';

export class TaskScopesError extends Error {}

/** The scopes of task `taskId`; a failure is one line that never holds the credentials. */
export async function fetchTaskScopes(
  rootUrl: string,
  credentials: Credentials,
  taskId: string,
): Promise<string[]> {
  // Loaded only for --task-id: importing taskcluster-client costs ~0.5 s of start-up.
  const { default: taskcluster } = await import('taskcluster-client');
  const queue = new taskcluster.Queue({
    rootUrl,
    credentials: {
      clientId: credentials.clientId,
      accessToken: credentials.accessToken,
      ...(credentials.certificate ? { certificate: JSON.stringify(credentials.certificate) } : {}),
    },
    retries: 2,
  });
  let task: { scopes?: unknown };
  try {
    task = await queue.task(taskId);
  } catch (err) {
    const e = err as { statusCode?: number; code?: string; message?: string };
    const why = e.statusCode
      ? `${e.statusCode} ${e.code ?? ''}`.trim()
      : (e.message ?? String(err)).split('\n')[0];
    const hint =
      e.statusCode === 404
        ? 'check --task-id'
        : e.statusCode === 401 || e.statusCode === 403
          ? `the credentials need queue:get-task:${taskId}`
          : 'check --root-url and the network';
    throw new TaskScopesError(`--task-id ${taskId}: cannot fetch the task from the queue (${why}); ${hint}`);
  }
  const scopes = task.scopes ?? [];
  if (!Array.isArray(scopes) || !scopes.every((s) => typeof s === 'string'))
    throw new TaskScopesError(`--task-id ${taskId}: the queue returned a task without a scopes array`);
  return scopes;
}
