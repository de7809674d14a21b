/**
 * @module images/progress
 * Progress lines for the live log while an image is downloaded, loaded or pulled: bytes so far,
 * the percentage when the total is known and the rate, at most one line a second (on the injected
 * clock), and a last line when it is done.
 */
import type { Clock } from '../clock.js';

const MiB = 1024 * 1024;

export function formatBytes(n: number): string {
  if (n >= 1024 * MiB) return `${(n / (1024 * MiB)).toFixed(2)} GiB`;
  if (n >= MiB) return `${(n / MiB).toFixed(1)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${n} B`;
}

export class Progress {
  private done = 0;
  private total: number | undefined;
  private lastLine: number;
  private readonly started: number;

  constructor(
    private readonly what: string,
    private readonly clock: Clock,
    private readonly emit: (line: string) => void,
    private readonly intervalMs = 1000,
  ) {
    this.started = clock.now();
    this.lastLine = this.started;
  }

  /** Sets the bytes so far (and the total when known); prints a line when a second has passed. */
  update(done: number, total?: number): void {
    this.done = done;
    if (total !== undefined && total > 0) this.total = total;
    if (this.clock.now() - this.lastLine >= this.intervalMs) this.print();
  }

  add(bytes: number): void {
    this.update(this.done + bytes);
  }

  get bytes(): number {
    return this.done;
  }

  /** The last line: everything, the time it took and the mean rate. */
  finish(): void {
    this.print(true);
  }

  private print(final = false): void {
    const now = this.clock.now();
    this.lastLine = now;
    const seconds = Math.max((now - this.started) / 1000, 0.001);
    const pct = this.total
      ? ` of ${formatBytes(this.total)} (${Math.min(100, (100 * this.done) / this.total).toFixed(0)}%)`
      : '';
    const rate = `${formatBytes(this.done / seconds)}/s`;
    this.emit(
      final
        ? `${this.what}: ${formatBytes(this.done)} in ${seconds.toFixed(1)} s (${rate})`
        : `${this.what}: ${formatBytes(this.done)}${pct}, ${rate}`,
    );
  }
}
