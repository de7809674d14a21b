/**
 * @module images/sources/backoff
 * The retry policy of image pulls and image artifact downloads, the last docker-worker's:
 * `dockerConfig.maxAttempts` attempts, the n-th retry after `delayFactorMs × 2^(n-1)` ±25 %, on
 * the run's clock, ended by the run's signal. What is worth retrying is the caller's call.
 */
import type { TaskRun } from '../../run-context.js';

export interface Attempts<T> {
  /** One attempt; `attempt` counts from 1. */
  run(attempt: number): Promise<T>;
  retryable(err: unknown): boolean;
  /** Told before each retry (the live log says why it waits). */
  onRetry(err: unknown, attempt: number, delayMs: number): void;
}

export class AttemptsExhausted extends Error {
  override readonly name = 'AttemptsExhausted';
  constructor(
    readonly attempts: number,
    readonly last: unknown,
  ) {
    super(last instanceof Error ? last.message : String(last), { cause: last });
  }
}

/** Runs until an attempt succeeds; a final error is thrown as it is, exhausted retries as AttemptsExhausted. */
export async function withBackoff<T>(run: TaskRun, attempts: Attempts<T>): Promise<T> {
  const { maxAttempts, delayFactorMs } = run.config.dockerConfig;
  const max = Math.max(1, maxAttempts);
  for (let attempt = 1; ; attempt++) {
    try {
      return await attempts.run(attempt);
    } catch (err) {
      run.signal.throwIfAborted();
      if (!attempts.retryable(err)) throw err;
      if (attempt >= max) throw new AttemptsExhausted(attempt, err);
      const delay = Math.round(delayFactorMs * 2 ** (attempt - 1) * (0.75 + Math.random() * 0.5));
      attempts.onRetry(err, attempt, delay);
      if (delay > 0) await run.clock.sleep(delay, run.signal);
    }
  }
}
