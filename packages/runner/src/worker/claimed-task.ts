/**
 * @module worker/claimed-task
 * A claim's task definition (as the queue serves it, dates as ISO strings) as the runner's
 * TaskDefinition. The queue validated the definition; the payload is validated by its feature.
 */
import type { Payload, TaskDefinition } from '../task.js';
import type { Claim } from './taskcluster.js';

export function taskOfClaim(claim: Claim): TaskDefinition {
  const task = claim.task;
  const scopes = Array.isArray(task.scopes)
    ? task.scopes.filter((s): s is string => typeof s === 'string')
    : [];
  return {
    taskId: claim.status.taskId,
    runId: claim.runId,
    scopes,
    payload: (task.payload ?? {}) as Payload,
    created: new Date(String(task.created)),
    deadline: new Date(String(task.deadline)),
    expires: new Date(String(task.expires)),
    definition: task,
  };
}
