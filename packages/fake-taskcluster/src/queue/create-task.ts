/**
 * @module queue/create-task
 * createTask's checks beyond the schema, as upstream: provisionerId/workerType ⇔ taskQueueId,
 * the scope expression, then the dates (created ±15 min of now, deadline after created, not past,
 * at most 5 days ahead; expires defaults to deadline + 1 year and may not precede the deadline).
 */
import type { ScopeExpression } from 'taskcluster-lib-scopes';
import { HttpError } from '../errors.js';
import { PRIORITIES } from '../schemas/queue.js';
import type { TaskDef } from './model.js';

const FIFTEEN_MINUTES = 15 * 60 * 1000;
const MAX_DEADLINE_DAYS = 5;

function inputError(message: string): never {
  throw new HttpError(400, message, 'InputError');
}

/** Fills taskQueueId or provisionerId/workerType from one another (the body is schema-valid). */
export function withQueueIds(body: Record<string, unknown>): TaskDef {
  const def = { ...body } as unknown as TaskDef & {
    taskQueueId?: string;
    provisionerId?: string;
    workerType?: string;
  };
  if (def.provisionerId && def.workerType && def.taskQueueId) {
    if (`${def.provisionerId}/${def.workerType}` !== def.taskQueueId)
      inputError('taskQueueId must match "provisionerId/workerType"');
  } else if (def.provisionerId && def.workerType) {
    def.taskQueueId = `${def.provisionerId}/${def.workerType}`;
  } else if (def.taskQueueId) {
    const [provisionerId = '', workerType = ''] = def.taskQueueId.split('/');
    Object.assign(def, { provisionerId, workerType });
  } else {
    inputError('at least a provisionerId and a workerType or a taskQueueId must be provided');
  }
  return def;
}

/** createTask's scope expression (upstream api.js): scopes, routes, project, scheduler, priority. */
export function createTaskScopes(def: TaskDef): ScopeExpression {
  const priorities = PRIORITIES.slice(0, PRIORITIES.indexOf(def.priority as (typeof PRIORITIES)[number]) + 1);
  return {
    AllOf: [
      ...def.scopes,
      ...def.routes.map((r) => `queue:route:${r}`),
      `queue:create-task:project:${def.projectId}`,
      `queue:scheduler-id:${def.schedulerId}`,
      { AnyOf: priorities.map((p) => `queue:create-task:${p}:${def.provisionerId}/${def.workerType}`) },
    ],
  };
}

/** Checks and normalises the dates in place; sets taskGroupId. */
export function patchDates(taskId: string, def: TaskDef, now: number): TaskDef {
  if (!def.taskGroupId) def.taskGroupId = taskId;
  const created = Date.parse(def.created);
  const deadline = Date.parse(def.deadline);
  if (created < now - FIFTEEN_MINUTES) inputError('`created` cannot be in the past (max 15min drift)');
  if (created > now + FIFTEEN_MINUTES) inputError('`created` cannot be in the future (max 15min drift)');
  if (created > deadline) inputError('`deadline` cannot be later than `created`');
  if (deadline < now) inputError('`deadline` cannot be in the past');
  if (deadline - now > MAX_DEADLINE_DAYS * 24 * 60 * 60 * 1000 + FIFTEEN_MINUTES)
    inputError(`\`deadline\` cannot be more than ${MAX_DEADLINE_DAYS} days into the future`);
  if (!def.expires) {
    const expires = new Date(deadline);
    expires.setFullYear(expires.getFullYear() + 1);
    def.expires = expires.toJSON();
  }
  if (deadline > Date.parse(def.expires)) inputError('`expires` cannot be before `deadline`');
  def.created = new Date(created).toJSON();
  def.deadline = new Date(deadline).toJSON();
  def.expires = new Date(def.expires).toJSON();
  if (def.scopes.some((s) => s.endsWith('**'))) inputError('scopes must not end with `**`');
  return def;
}
