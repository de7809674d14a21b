/**
 * @module scopes
 * Checks a feature's declared `requiredScopes` (any-of all-of) against the task's scopes with
 * taskcluster-lib-scopes; the error names the exact scope(s) to add.
 */
import { satisfiesExpression } from 'taskcluster-lib-scopes';
import { malformedPayload } from './errors.js';

export function assertScopes(
  taskScopes: readonly string[],
  required: readonly string[][],
  feature: string,
): void {
  if (required.length === 0) return;
  const held = [...taskScopes];
  const ok = required.some((set) => satisfiesExpression(held, { AllOf: [...set] }));
  if (ok) return;
  const missing = (required[0] ?? []).filter((s) => !satisfiesExpression(held, s));
  const also =
    required.length > 1
      ? ` (or one of the other accepted sets: ${required
          .slice(1)
          .map((s) => s.join(' + '))
          .join('; ')})`
      : '';
  throw malformedPayload(
    `Insufficient scopes to use '${feature}'. Try adding ${missing.join(', ')} to the .scopes array of the task${also}.`,
  );
}
