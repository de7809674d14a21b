/**
 * @module testing/fast-clock
 * A {@link Clock} whose `sleep(ms)` moves time forward by `ms` at once (after yielding to the
 * event loop), so that polling flows with minute-long deadlines run in milliseconds. Share its
 * `now` with the simulated cloud so that flash runs progress on the same time line.
 */
import type { Clock } from '../device/clock.js';

export class FastClock implements Clock {
  /** Total time slept, in ms. */
  slept = 0;
  constructor(private t = Date.UTC(2026, 0, 1)) {}

  now = (): number => this.t;

  advance(ms: number): void {
    this.t += ms;
  }

  async sleep(ms: number, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    await new Promise<void>((resolve) => setImmediate(resolve));
    signal?.throwIfAborted();
    this.t += ms;
    this.slept += ms;
  }
}
