/**
 * @module e2e/faults/task-with-id
 * A task of a session's queue whose taskId the test picks first (`QueueSession.createTask` makes
 * its own): for payloads that carry their own taskId, as encrypted env messages do.
 */
import type { Json } from 'taskcluster-client';
import type { QueueSession } from '../queue-harness.js';

export async function createTaskWithId(
  q: QueueSession,
  taskId: string,
  payload: Json,
  extra: Record<string, unknown> = {},
): Promise<string> {
  const now = Date.now();
  await q.admin.createTask(taskId, {
    taskQueueId: q.taskQueueId,
    created: new Date(now).toJSON(),
    deadline: new Date(now + 3600_000).toJSON(),
    expires: new Date(now + 86_400_000).toJSON(),
    scopes: [],
    retries: 1,
    payload: { image: 'debian:bookworm-slim', maxRunTime: 120, ...(payload as object) },
    metadata: {
      name: 'e2e fault',
      description: 'fault suite',
      owner: 'e2e@example.com',
      source: 'https://example.com/e2e',
    },
    ...extra,
  });
  return taskId;
}
