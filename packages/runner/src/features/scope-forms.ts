/**
 * @module features/scope-forms
 * Scopes the last docker-worker accepted in two forms: `<scope>` or `<scope>:<workerPoolId>`
 * (the worker pool id is the task queue id). Every scope needs one of its forms; the error names
 * each missing one in both.
 */
import { satisfiesExpression } from 'taskcluster-lib-scopes';
import { malformedPayload } from '../errors.js';

export function assertPoolScopes(
  taskScopes: readonly string[],
  scopes: readonly string[],
  workerPoolId: string,
  what: string,
): void {
  const held = [...taskScopes];
  const missing = scopes.filter((s) => !satisfiesExpression(held, { AnyOf: [s, `${s}:${workerPoolId}`] }));
  if (missing.length === 0) return;
  throw malformedPayload(
    `Insufficient scopes to use ${what}. Try adding ${missing
      .map((s) => `${s} (or ${s}:${workerPoolId})`)
      .join(', ')} to the .scopes array of the task.`,
  );
}
