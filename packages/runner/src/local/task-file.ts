/**
 * @module local/task-file
 * Reads a task definition file (YAML or JSON: an object with `payload`, optional `scopes`,
 * `taskId`, `created`, `deadline`, `expires`) into a TaskDefinition, with one-line errors.
 */
import slugid from 'slugid';
import { UsageError } from '../errors.js';
import { readYamlFile } from '../yaml-file.js';
import type { Payload, TaskDefinition } from '../task.js';

const TASK_ID = /^[A-Za-z0-9_-]{1,64}$/;
const DAY = 24 * 3600 * 1000;

function date(value: unknown, field: string, fallback: number): Date {
  if (value === undefined) return new Date(fallback);
  const d = new Date(value as string);
  if (typeof value !== 'string' || Number.isNaN(d.getTime()))
    throw new UsageError(`task field "${field}" must be an ISO 8601 date, e.g. "2030-01-01T00:00:00Z"`);
  return d;
}

export function toTaskDefinition(
  raw: unknown,
  opts: { taskId?: string; runId?: number; now: number },
): TaskDefinition {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new UsageError('the task file must hold an object with a "payload" key');
  const task = raw as Record<string, unknown>;
  if (typeof task.payload !== 'object' || task.payload === null || Array.isArray(task.payload)) {
    throw new UsageError(
      'the task file has no "payload" object; put the docker-worker payload under "payload:"',
    );
  }
  const taskId = opts.taskId ?? (task.taskId as string | undefined) ?? slugid.nice();
  if (typeof taskId !== 'string' || !TASK_ID.test(taskId))
    throw new UsageError(`task id ${JSON.stringify(taskId)} must be 1-64 characters of A-Z a-z 0-9 _ -`);
  const scopes = task.scopes ?? [];
  if (!Array.isArray(scopes) || scopes.some((s) => typeof s !== 'string'))
    throw new UsageError('task field "scopes" must be a list of strings');
  const created = date(task.created, 'created', opts.now);
  const deadline = date(task.deadline, 'deadline', created.getTime() + DAY);
  const expires = date(task.expires, 'expires', created.getTime() + 365 * DAY);
  if (expires < deadline) throw new UsageError('task field "expires" must not be before "deadline"');
  return {
    taskId,
    runId: opts.runId ?? 0,
    scopes: scopes as string[],
    payload: task.payload as Payload,
    created,
    deadline,
    expires,
  };
}

export function readTaskFile(file: string): Promise<unknown> {
  return readYamlFile(file, 'task file', 'give the path of a YAML or JSON task file (see examples/)');
}
