import { describe, expect, it } from 'vitest';
import { FakeClock } from '../testing/fake-clock.js';
import { httpError, networkError } from '../testing/memory-queue.js';
import { isRetryable, statusOf, withRetries } from './retry.js';

/** A call that fails with `errors` in turn, then answers 'ok'; counts its attempts. */
function flaky(...errors: Error[]): { fn: () => Promise<string>; attempts: () => number } {
  let n = 0;
  return {
    fn: async () => {
      const err = errors[n++];
      if (err) throw err;
      return 'ok';
    },
    attempts: () => n,
  };
}

describe('isRetryable', () => {
  it('retries 5xx answers and network errors, never 4xx or programming errors', () => {
    expect(isRetryable(httpError(500))).toBe(true);
    expect(isRetryable(httpError(503))).toBe(true);
    expect(isRetryable(networkError('ECONNRESET'))).toBe(true);
    expect(isRetryable(networkError('ETIMEDOUT'))).toBe(true);
    expect(isRetryable(networkError('UND_ERR_SOCKET'))).toBe(true);
    expect(isRetryable(httpError(409))).toBe(false);
    expect(isRetryable(httpError(404))).toBe(false);
    expect(isRetryable(Object.assign(new TypeError('bad'), { code: 'ERR_INVALID_ARG_TYPE' }))).toBe(false);
    expect(isRetryable(new Error('plain'))).toBe(false);
    expect(isRetryable(undefined)).toBe(false);
  });

  it('reads the status of an HTTP error only', () => {
    expect(statusOf(httpError(409))).toBe(409);
    expect(statusOf(networkError())).toBeUndefined();
    expect(statusOf(Object.assign(new Error('x'), { statusCode: '500' }))).toBeUndefined();
  });
});

describe('withRetries', () => {
  it('retries a 500 and a reset connection with exponential backoff on the clock, then answers', async () => {
    const clock = new FakeClock();
    const call = flaky(httpError(500), networkError('ECONNRESET'));
    const delays: number[] = [];
    const result = withRetries(call.fn, { clock, onRetry: (_err, _n, ms) => delays.push(ms) });
    await clock.advance(0);
    expect(call.attempts()).toBe(1); // waiting, not spinning
    await clock.advance(10_000);
    await expect(result).resolves.toBe('ok');
    expect(call.attempts()).toBe(3);
    // 100 ms × 2^n, ±25 %
    expect(delays[0]).toBeGreaterThanOrEqual(150);
    expect(delays[0]).toBeLessThanOrEqual(250);
    expect(delays[1]).toBeGreaterThanOrEqual(300);
    expect(delays[1]).toBeLessThanOrEqual(500);
  });

  it('throws a 4xx at once, without waiting', async () => {
    const clock = new FakeClock();
    const call = flaky(httpError(404), httpError(404));
    await expect(withRetries(call.fn, { clock })).rejects.toMatchObject({ statusCode: 404 });
    expect(call.attempts()).toBe(1);
    expect(clock.pending).toBe(0);
  });

  it('gives up with the last error when the next attempt would start after `until`', async () => {
    const clock = new FakeClock();
    const start = clock.now();
    const until = start + 5_000;
    let attempts = 0;
    const result = withRetries(
      async () => {
        attempts++;
        throw httpError(503, `attempt ${attempts}`);
      },
      { clock, until },
    );
    const settled = result.catch((err: unknown) => err);
    await clock.advance(60_000);
    const err = (await settled) as Error;
    expect(err.message).toBe(`attempt ${attempts}`);
    expect(attempts).toBeGreaterThan(3);
    // 200 + 400 + 800 + 1600 (±25 %) fit into 5 s; 3200 more does not.
    expect(attempts).toBeLessThanOrEqual(6);
  });

  it('stops after `attempts` in all', async () => {
    const clock = new FakeClock();
    const call = flaky(httpError(500), httpError(500), httpError(500), httpError(500));
    const settled = withRetries(call.fn, { clock, attempts: 3 }).catch((err: unknown) => err);
    await clock.advance(60_000);
    expect(await settled).toMatchObject({ statusCode: 500 });
    expect(call.attempts()).toBe(3);
  });

  it('never waits longer than maxDelayMs (+25 %) between attempts', async () => {
    const clock = new FakeClock();
    const call = flaky(...Array.from({ length: 8 }, () => httpError(502)));
    const delays: number[] = [];
    const result = withRetries(call.fn, {
      clock,
      maxDelayMs: 1_000,
      onRetry: (_err, _n, ms) => delays.push(ms),
    });
    await clock.advance(60_000);
    await expect(result).resolves.toBe('ok');
    expect(delays).toHaveLength(8);
    expect(Math.max(...delays)).toBeLessThanOrEqual(1_250);
  });

  it('rejects with the abort reason when its signal fires during a wait', async () => {
    const clock = new FakeClock();
    const controller = new AbortController();
    const call = flaky(httpError(500));
    const settled = withRetries(call.fn, { clock, signal: controller.signal }).catch((err: unknown) => err);
    await clock.advance(0);
    controller.abort(new Error('stopping'));
    expect(await settled).toMatchObject({ message: 'stopping' });
    expect(call.attempts()).toBe(1);
  });
});
