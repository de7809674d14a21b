/**
 * @module worker/retry
 * The worker's one retry policy for Taskcluster calls: 5xx answers and network errors are retried
 * with exponential backoff (100 ms × 2^n, ±25 %, at most `maxDelayMs`) on the injected clock, until
 * `until` (e.g. shortly before the claim expires) or `attempts` run out. 4xx answers are final.
 */
import type { Clock } from '../clock.js';

export interface RetryOptions {
  clock: Clock;
  /** Give up when the next attempt would start after this time (ms since the epoch). */
  until?: number;
  /** At most this many attempts in all (default: no limit but `until`). */
  attempts?: number;
  maxDelayMs?: number;
  signal?: AbortSignal;
  /** Told about every failed attempt that will be retried. */
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
}

/** The HTTP status of a taskcluster-client or fetch error, when it has one. */
export function statusOf(err: unknown): number | undefined {
  const status = (err as { statusCode?: unknown } | undefined)?.statusCode;
  return typeof status === 'number' ? status : undefined;
}

/** 5xx, or no answer at all: a network error carries a code (ECONNREFUSED, ECONNRESET, ETIMEDOUT...). */
export function isRetryable(err: unknown): boolean {
  const status = statusOf(err);
  if (status !== undefined) return status >= 500;
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && /^(E[A-Z]+|UND_ERR_[A-Z_]+)$/.test(code);
}

export async function withRetries<T>(fn: () => Promise<T>, opts: RetryOptions): Promise<T> {
  const maxDelay = opts.maxDelayMs ?? 10_000;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (!isRetryable(err) || (opts.attempts !== undefined && attempt >= opts.attempts)) throw err;
      const base = Math.min(maxDelay, 100 * 2 ** attempt);
      const delay = Math.round(base * (0.75 + Math.random() * 0.5));
      if (opts.until !== undefined && opts.clock.now() + delay > opts.until) throw err;
      opts.onRetry?.(err, attempt, delay);
      await opts.clock.sleep(delay, opts.signal);
    }
  }
}
