/**
 * @module testing/fake-clock
 * A Clock whose time moves only when a test calls `advance(ms)`; due timers and sleeps fire then.
 *
 * @example
 * const clock = new FakeClock();
 * clock.setTimer(1000, () => fired = true);
 * await clock.advance(1000); // fired === true
 */
import type { Clock } from '../clock.js';

interface Timer {
  at: number;
  fn: () => void;
}

export class FakeClock implements Clock {
  private time: number;
  private timers = new Set<Timer>();

  constructor(start = Date.UTC(2026, 0, 1)) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  setTimer(ms: number, fn: () => void): () => void {
    const timer = { at: this.time + ms, fn };
    this.timers.add(timer);
    return () => this.timers.delete(timer);
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const cancel = this.setTimer(ms, () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      });
      const onAbort = (): void => {
        cancel();
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Number of timers not yet fired. */
  get pending(): number {
    return this.timers.size;
  }

  /**
   * Moves time forward, firing due timers in order; awaits a tick first (so work started just
   * before sets its timers) and after each (so promise chains run).
   */
  async advance(ms: number): Promise<void> {
    const until = this.time + ms;
    await new Promise((r) => setImmediate(r));
    for (;;) {
      const next = [...this.timers].filter((t) => t.at <= until).sort((a, b) => a.at - b.at)[0];
      if (!next) break;
      this.timers.delete(next);
      this.time = Math.max(this.time, next.at);
      next.fn();
      await new Promise((r) => setImmediate(r));
    }
    this.time = until;
    await new Promise((r) => setImmediate(r));
  }
}
