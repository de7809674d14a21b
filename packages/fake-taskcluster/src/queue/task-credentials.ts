/**
 * @module queue/task-credentials
 * The credentials the queue hands out with a claim or reclaim (PROTOCOLS.md §3.1) and with an
 * object artifact (§3.8), issued by the queue's own client as real temporary credentials.
 */
import { issueTemporaryCredentials } from '../auth/issue-credentials.js';
import type { IssuerCredentials, TemporaryCredentials } from '../auth/issue-credentials.js';

export interface RunRef {
  taskId: string;
  runId: number;
  workerGroup: string;
  workerId: string;
}

export function taskCredentials(
  issuer: IssuerCredentials,
  run: RunRef,
  takenUntil: number,
  taskScopes: readonly string[],
  now: number,
): TemporaryCredentials {
  const { taskId, runId, workerGroup, workerId } = run;
  return issueTemporaryCredentials({
    issuer,
    clientId: `task-client/${taskId}/${runId}/on/${workerGroup}/${workerId}/until/${takenUntil / 1000}`,
    start: now,
    expiry: takenUntil,
    scopes: [
      `queue:reclaim-task:${taskId}/${runId}`,
      `queue:resolve-task:${taskId}/${runId}`,
      `queue:create-artifact:${taskId}/${runId}`,
      ...taskScopes,
    ],
  });
}

const ONE_DAY = 24 * 60 * 60 * 1000;

/** Upload credentials for one object: until the artifact expires or 24 h, whichever is sooner. */
export function objectUploadCredentials(
  issuer: IssuerCredentials,
  run: RunRef,
  object: { projectId: string; name: string; expires: number },
  now: number,
): TemporaryCredentials {
  return issueTemporaryCredentials({
    issuer,
    clientId: `artifact-upload/${run.taskId}/${run.runId}/on/${run.workerGroup}/${run.workerId}`,
    start: now,
    expiry: Math.min(object.expires, now + ONE_DAY),
    scopes: [`object:upload:${object.projectId}:${object.name}`],
  });
}
