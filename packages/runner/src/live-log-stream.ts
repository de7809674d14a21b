/**
 * @module live-log-stream
 * The task author's log: container output, sidecar output (`[alias] ` prefixed) and the worker's
 * `[taskcluster <time>]` lines, with secrets replaced by `[secret]`. Written to a backing file on
 * disk (never held whole in memory) and, in local mode, to a sink such as stdout.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { EventEmitter, once } from 'node:events';
import type { Clock } from './clock.js';

/** Where the live log also goes (stdout in local mode). `once('drain')` lets slow readers apply back-pressure. */
export interface LiveLogSink {
  write(chunk: string): boolean;
  once?(event: 'drain', listener: () => void): unknown;
}

/** Longest line kept before it is flushed without its end-of-line. */
const MAX_PARTIAL = 64 * 1024;

export class LiveLog {
  private readonly file: WriteStream;
  private readonly secrets = new Set<string>();
  private readonly partials = new Map<string, string>();
  private closed = false;
  private written = 0;
  private ended = false;
  private readonly changes = new EventEmitter().setMaxListeners(0);

  constructor(
    readonly path: string,
    private readonly clock: Clock,
    private readonly sink?: LiveLogSink,
  ) {
    this.file = createWriteStream(path, { flags: 'a' });
  }

  /** Bytes of the log that are in the backing file (readers may read that far). */
  get bytesWritten(): number {
    return this.written;
  }

  /** True once the log is closed and every byte is in the file. */
  get complete(): boolean {
    return this.ended;
  }

  /** `fn` is called whenever more bytes are in the file, and once when the log is complete. */
  onChange(fn: () => void): () => void {
    this.changes.on('change', fn);
    return () => this.changes.off('change', fn);
  }

  /** Every later occurrence of `value` in the log is written as `[secret]`. */
  addSecret(value: string): void {
    if (value.length > 0) this.secrets.add(value);
  }

  /** `[taskcluster 2016-05-02 10:11:12.345Z] message` */
  info(message: string): void {
    this.emit(`[taskcluster ${this.timestamp()}] ${message}\n`);
  }

  /** `\n[taskcluster:error] message` (the leading newline is docker-worker's). */
  error(message: string): void {
    this.emit(`\n[taskcluster:error] ${message}\n`);
  }

  /** Container output: redacted line by line so a secret split across chunks is still caught. */
  async output(chunk: Buffer | string, source = '', prefix = ''): Promise<void> {
    const text = (this.partials.get(source) ?? '') + chunk.toString();
    const end = text.lastIndexOf('\n');
    let ready = end >= 0 ? text.slice(0, end + 1) : '';
    let rest = end >= 0 ? text.slice(end + 1) : text;
    if (rest.length > MAX_PARTIAL) {
      ready += rest;
      rest = '';
    }
    this.partials.set(source, rest);
    if (ready) await this.emitLines(ready, prefix);
  }

  /** Writes what is left of a source's last line. */
  async flush(source = '', prefix = ''): Promise<void> {
    const rest = this.partials.get(source);
    this.partials.delete(source);
    if (rest) await this.emitLines(`${rest}\n`, prefix);
  }

  /** Flushes every source and closes the backing file. */
  async close(): Promise<void> {
    if (this.closed) return;
    for (const source of [...this.partials.keys()]) await this.flush(source);
    this.closed = true;
    this.file.end();
    await once(this.file, 'close');
    this.ended = true;
    this.changes.emit('change');
  }

  redact(text: string): string {
    let out = text;
    for (const s of [...this.secrets].sort((a, b) => b.length - a.length))
      out = out.split(s).join('[secret]');
    return out;
  }

  private async emitLines(text: string, prefix: string): Promise<void> {
    const body = prefix ? text.replace(/^(?=.)/gm, prefix) : text;
    const waits = this.emit(body);
    if (waits.length > 0) await Promise.all(waits);
  }

  /** Writes to the file and the sink; returns what to await when either is full. */
  private emit(text: string): Promise<void>[] {
    if (this.closed) return [];
    const safe = this.redact(text);
    const waits: Promise<void>[] = [];
    const sink = this.sink;
    if (sink && !sink.write(safe) && sink.once)
      waits.push(new Promise((resolve) => sink.once?.('drain', resolve)));
    const bytes = Buffer.byteLength(safe);
    const flushed = this.file.write(safe, () => {
      this.written += bytes;
      this.changes.emit('change');
    });
    if (!flushed) waits.push(once(this.file, 'drain').then(() => undefined));
    return waits;
  }

  private timestamp(): string {
    return new Date(this.clock.now()).toISOString().replace('T', ' ');
  }
}
