/**
 * @module cli-args
 * Parsing of the CLI's time arguments. Each failure is a UsageError whose message says how to fix it.
 */

/** A wrong invocation: exit code 64 (EX_USAGE). */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** A failure with a one-line message for the user: exit code 1. */
export class CliError extends Error {
  override readonly name = 'CliError';
}

/** `2026-11-28T12:00:00Z` (any ISO 8601 date) or milliseconds since the epoch. */
export function parseTime(text: string, option: string): number {
  if (/^\d+$/.test(text)) return Number(text);
  const ms = /^\d{4}-\d{2}-\d{2}/.test(text) ? Date.parse(text) : Number.NaN;
  if (Number.isNaN(ms)) {
    throw new UsageError(
      `${option} ${JSON.stringify(text)} is not a time; give an ISO date like 2026-01-31T12:00:00Z or milliseconds since the epoch`,
    );
  }
  return ms;
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `90s`, `30m`, `24h`, `7d` (or `500ms`) → milliseconds. */
export function parseDuration(text: string, option: string): number {
  const m = /^(\d+)(ms|s|m|h|d)$/.exec(text.trim());
  if (!m || Number(m[1]) <= 0) {
    throw new UsageError(
      `${option} ${JSON.stringify(text)} is not a duration; give a number with a unit: 90s, 30m, 24h or 7d`,
    );
  }
  return Number(m[1]) * (UNITS[m[2] ?? 'ms'] ?? 1);
}
