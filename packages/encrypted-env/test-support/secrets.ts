/**
 * Asserts that a secret appears nowhere in an error: message, String(), stack, JSON, inspect(),
 * and the same for every error of its cause chain.
 */
import { inspect } from 'node:util';
import { expect } from 'vitest';

export function expectSecretAbsent(err: unknown, ...secrets: string[]): void {
  let current: unknown = err;
  let depth = 0;
  while (current !== undefined && current !== null && depth < 10) {
    const forms: string[] = [
      String(current),
      JSON.stringify(current) ?? '',
      inspect(current, { depth: 10, showHidden: true }),
    ];
    if (current instanceof Error) forms.push(current.message, current.stack ?? '');
    for (const secret of secrets) for (const form of forms) expect(form).not.toContain(secret);
    current = current instanceof Error ? current.cause : undefined;
    depth += 1;
  }
}
