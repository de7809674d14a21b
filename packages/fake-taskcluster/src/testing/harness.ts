/**
 * @module testing/harness
 * Test fixtures shared by the queue, artifact and object tests (not part of the build): a fake
 * with an admin and a worker client, a valid task definition, and create → claim in one call.
 */
import taskcluster from 'taskcluster-client';
import type { Claim, Credentials, Json, Queue } from 'taskcluster-client';
import { slugid } from '../ids.js';
import { startFakeTaskcluster } from '../server.js';
import type { FakeTaskcluster, FakeTaskclusterOptions } from '../server.js';

export const QUEUE_ID = 'prov-1/wt-1';
export const ADMIN = { clientId: 'admin', accessToken: 'admin-token-0123456789', scopes: ['*'] };
export const WORKER = {
  clientId: 'worker',
  accessToken: 'worker-token-0123456789',
  scopes: [`queue:claim-work:${QUEUE_ID}`, 'queue:worker-id:wg-1/*'],
};
export const CLAIM_BODY = { workerGroup: 'wg-1', workerId: 'w-1', tasks: 1 };

export async function startQueue(options: Partial<FakeTaskclusterOptions> = {}): Promise<FakeTaskcluster> {
  return startFakeTaskcluster({ clients: [ADMIN, WORKER], claimWorkWaitMs: 200, ...options });
}

export function queueAs(tc: FakeTaskcluster, credentials: Credentials): Queue {
  return new taskcluster.Queue({ rootUrl: tc.rootUrl, credentials, retries: 0 });
}

export function taskDef(overrides: Json = {}, now = Date.now()): Json {
  return {
    taskQueueId: QUEUE_ID,
    created: new Date(now).toJSON(),
    deadline: new Date(now + 60 * 60 * 1000).toJSON(),
    expires: new Date(now + 24 * 60 * 60 * 1000).toJSON(),
    scopes: ['secrets:get:x'],
    payload: { image: 'debian' },
    metadata: { name: 't', description: 'd', owner: 'o@example.com', source: 'https://example.com/x' },
    ...overrides,
  };
}

/** Creates a task as admin and claims it as the worker. */
export async function createAndClaim(
  tc: FakeTaskcluster,
  overrides: Json = {},
): Promise<{ taskId: string; claim: Claim }> {
  const taskId = slugid();
  await queueAs(tc, ADMIN).createTask(taskId, taskDef(overrides));
  const { tasks } = await queueAs(tc, WORKER).claimWork(QUEUE_ID, CLAIM_BODY);
  const claim = tasks.find((c) => c.status.taskId === taskId);
  if (!claim) throw new Error(`task ${taskId} was not claimed`);
  return { taskId, claim };
}

/** The error a promise rejects with (fails the test when it resolves). */
export async function rejection(
  p: Promise<unknown>,
): Promise<Error & { statusCode?: number; code?: string }> {
  try {
    await p;
  } catch (err) {
    return err as Error & { statusCode?: number; code?: string };
  }
  throw new Error('expected the call to fail');
}
