/**
 * @module e2e/faults/recorder
 * The fault table's measured figures: each row's test calls `record` with how many faults it
 * tried, how many held, and a figure it measured (time to recover, calls/s, RSS, ...). Rows go to
 * `.faults/results.json` at the repository root (merged by id: the files run one at a time);
 * `npm run faults` prints them as the table. `FAULTS_SCALE=full` selects the big counts.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const FULL = process.env.FAULTS_SCALE === 'full';
/** `small` in npm test, `full` under `npm run faults`. */
export const scale = <T>(small: T, full: T): T => (FULL ? full : small);

export interface RowResult {
  id: string;
  fault: string;
  tried: number;
  held: number;
  /** The measured figure(s), as printed in the table. */
  measured: string;
}

const DIR = fileURLToPath(new URL('../../../.faults/', import.meta.url));
export const RESULTS = `${DIR}results.json`;

export function record(row: RowResult): void {
  mkdirSync(DIR, { recursive: true });
  const all: Record<string, RowResult & { scale: string; at: string }> = existsSync(RESULTS)
    ? (JSON.parse(readFileSync(RESULTS, 'utf8')) as Record<string, RowResult & { scale: string; at: string }>)
    : {};
  all[row.id] = { ...row, scale: FULL ? 'full' : 'npm-test', at: new Date().toISOString() };
  writeFileSync(RESULTS, `${JSON.stringify(all, null, 2)}\n`);
}

/** Milliseconds since `start` (performance clock), rounded to 0.1 ms. */
export const since = (start: number): number => Math.round((performance.now() - start) * 10) / 10;

/** Percentile `p` (0..1) of `values`. */
export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;
}

/** Waits for `cond` to hold, looking again every `everyMs` (a condition, not a sleep for time). */
export async function until<T>(cond: () => T | Promise<T>, everyMs = 50): Promise<NonNullable<T>> {
  for (;;) {
    const v = await cond();
    if (v) return v as NonNullable<T>;
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
