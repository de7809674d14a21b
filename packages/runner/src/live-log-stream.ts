/**
 * @module live-log-stream
 * The task author's log: container output, sidecar output (`[alias] ` prefixed) and the worker's
 * `[taskcluster <time>]` lines, with secrets replaced by `[secret]`. Written to a backing file on
 * disk (never held whole in memory) and, in local mode, to a sink such as stdout.
 *
 * Each output source has its own UTF-8 decoder (a character split across chunks stays whole) and
 * its own streaming {@link Redactor} (a secret split across chunks or lines is still caught), and
 * goes out a whole line at a time, except that a line longer than 64 KiB is let out in pieces.
 *
 * Cost: while the log has no secret, a source's output bytes go out as they came (its whole lines,
 * checked to be valid UTF-8), with no decoding, re-encoding or copy; once a secret is known (or an
 * invalid byte or a 64 KiB line comes) that source goes through its decoder and redactor for good.
 * Either way each piece is encoded once, the same bytes go to the file and the sink, and the file
 * buffers up to 1 MiB (a write seldom waits for the disk).
 */
import { isUtf8 } from 'node:buffer';
import { createHash } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { EventEmitter, once } from 'node:events';
import { StringDecoder } from 'node:string_decoder';
import type { Clock } from './clock.js';
import { Redactor, SecretSet, redact } from './redactor.js';

/**
 * Where the live log also goes (stdout in local mode): its UTF-8 bytes, whole characters in each
 * chunk. `once('drain')` lets slow readers apply back-pressure.
 */
export interface LiveLogSink {
  write(chunk: Buffer): boolean;
  once?(event: 'drain', listener: () => void): unknown;
}

/** Longest line kept before it is flushed without its end-of-line. */
const MAX_PARTIAL = 64 * 1024;

/** What the backing file buffers before a write waits for it. */
const FILE_BUFFER = 1024 * 1024;

const NO_BYTES = Buffer.alloc(0);

/** One output source (the container, or a sidecar by alias). */
interface Source {
  readonly decoder: StringDecoder;
  readonly redactor: Redactor;
  /** Redacted text of the current line, not yet written. */
  line: string;
  prefix: string;
  /**
   * Bytes as they came, not yet decoded: the start of the current line while the source is raw
   * (its whole lines go out as bytes), null once it goes through `decoder` and `redactor`.
   */
  raw: Buffer | null;
}

export class LiveLog {
  private readonly file: WriteStream;
  private readonly secrets = new SecretSet();
  private readonly sources = new Map<string, Source>();
  private closed = false;
  private written = 0;
  private ended = false;
  private readonly changes = new EventEmitter().setMaxListeners(0);
  private failure: Error | undefined;
  // What went to the file, hashed on the way (the stored log's digest without reading it again).
  private readonly hash = createHash('sha256');
  private digest: string | undefined;

  constructor(
    readonly path: string,
    private readonly clock: Clock,
    private readonly sink?: LiveLogSink,
  ) {
    this.file = createWriteStream(path, { flags: 'a', highWaterMark: FILE_BUFFER });
    // A full disk or a vanished work directory must not crash the worker: the first error is
    // kept (the caller reports it), the file takes no more writes, the sink still does.
    this.file.on('error', (err) => {
      this.failure ??= err;
      this.changes.emit('change');
    });
  }

  /** Why the backing file stopped taking writes (ENOSPC, ENOENT...), if it did. */
  get writeError(): Error | undefined {
    return this.failure;
  }

  /** Bytes of the log that are in the backing file (readers may read that far). */
  get bytesWritten(): number {
    return this.written;
  }

  /**
   * Hex sha256 of the bytes this log wrote to its file, once it is complete; undefined when a
   * write failed (the file then holds less than was hashed).
   */
  get sha256(): string | undefined {
    if (!this.ended || this.failure) return undefined;
    return (this.digest ??= this.hash.digest('hex'));
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

  /**
   * Every later occurrence of `value` in the log is written as `[secret]`: as is, in base64 and
   * base64url (padded or not) and URL-encoded, also split across chunks or lines. Output already
   * given but not yet written (the current line of each source) is checked again too. Values
   * shorter than 4 characters are refused (false): redacting "a" would destroy the log.
   */
  addSecret(value: string): boolean {
    const before = this.secrets.size;
    if (!this.secrets.add(value)) return false;
    if (this.secrets.size === before) return true;
    for (const src of this.sources.values()) {
      src.redactor.requeue(src.line);
      src.line = '';
    }
    return true;
  }

  /** `[taskcluster 2016-05-02 10:11:12.345Z] message` */
  info(message: string): void {
    this.emit(this.redact(`[taskcluster ${this.timestamp()}] ${message}\n`));
  }

  /** `\n[taskcluster:error] message` (the leading newline is docker-worker's). */
  error(message: string): void {
    this.emit(this.redact(`\n[taskcluster:error] ${message}\n`));
  }

  /** Output of one source (the container by default), written a line at a time, redacted. */
  async output(chunk: Buffer | string, source = '', prefix = ''): Promise<void> {
    const src = this.source(source, prefix);
    if (src.raw) {
      if (typeof chunk !== 'string' && !src.prefix && this.secrets.forms.length === 0) {
        const rest = await this.rawLines(src, src.raw, chunk);
        if (rest.length <= MAX_PARTIAL) {
          src.raw = rest;
          return;
        }
        chunk = rest;
      } else {
        chunk =
          typeof chunk === 'string' ? src.decoder.write(src.raw) + chunk : Buffer.concat([src.raw, chunk]);
      }
      src.raw = null; // redacted, prefixed or held back from here on
    }
    const text = typeof chunk === 'string' ? chunk : src.decoder.write(chunk);
    const safe = src.redactor.push(text);
    const end = safe.lastIndexOf('\n');
    let ready = '';
    if (end >= 0) {
      ready = src.line + safe.slice(0, end + 1);
      src.line = safe.slice(end + 1);
    } else {
      src.line += safe;
    }
    if (src.line.length > MAX_PARTIAL) {
      ready += src.line;
      src.line = '';
    }
    if (ready) await this.emitLines(ready, src.prefix);
  }

  /** Writes what is left of a source's last line (and what it held back), redacted. */
  async flush(source = '', prefix?: string): Promise<void> {
    const src = this.sources.get(source);
    if (!src) return;
    this.sources.delete(source);
    const tail = (src.raw ? src.decoder.write(src.raw) : '') + src.decoder.end();
    const rest = src.line + src.redactor.push(tail) + src.redactor.end();
    if (rest) await this.emitLines(rest.endsWith('\n') ? rest : `${rest}\n`, prefix ?? src.prefix);
  }

  /**
   * Resolves once every byte given to the file so far is in it (`bytesWritten` counts it): a
   * reader of the file up to `bytesWritten` right after `flush()` could miss writes in flight.
   */
  async settled(): Promise<void> {
    if (this.closed || this.failure || this.file.destroyed) return;
    // Writes complete in order: the callback of an empty one runs after every earlier one's.
    await new Promise<void>((resolve) => this.file.write(Buffer.alloc(0), () => resolve()));
  }

  /** Flushes every source and closes the backing file. */
  async close(): Promise<void> {
    if (this.closed) return;
    for (const source of [...this.sources.keys()]) await this.flush(source);
    this.closed = true;
    if (!this.file.closed) {
      const closing = once(this.file, 'close').catch(() => undefined);
      this.file.end();
      await closing;
    }
    this.ended = true;
    this.changes.emit('change');
  }

  /** `text` with every secret (in every form) replaced by `[secret]`. */
  redact(text: string): string {
    return redact(text, this.secrets);
  }

  private source(name: string, prefix: string): Source {
    let src = this.sources.get(name);
    if (!src) {
      src = {
        decoder: new StringDecoder('utf8'),
        redactor: new Redactor(this.secrets),
        line: '',
        prefix,
        raw: NO_BYTES,
      };
      this.sources.set(name, src);
    }
    src.prefix = prefix;
    return src;
  }

  /**
   * A raw source's next bytes: writes its whole lines (`held` then `chunk` up to its last newline)
   * as they are, when they are valid UTF-8; returns what is not written yet (the start of the
   * current line, or everything when it is not valid UTF-8: the decoder decides then).
   */
  private async rawLines(src: Source, held: Buffer, chunk: Buffer): Promise<Buffer> {
    const end = chunk.lastIndexOf(10) + 1;
    if (end === 0) return held.length ? Buffer.concat([held, chunk]) : chunk;
    const lines = held.length ? Buffer.concat([held, chunk.subarray(0, end)]) : chunk.subarray(0, end);
    if (!isUtf8(lines)) return held.length ? Buffer.concat([held, chunk]) : chunk;
    // the next chunk may take a while: keep a copy of the line's start, not the whole chunk
    src.raw = end < chunk.length ? Buffer.from(chunk.subarray(end)) : NO_BYTES;
    await this.wait(this.emit(lines));
    return src.raw;
  }

  private async emitLines(text: string, prefix: string): Promise<void> {
    const body = prefix ? text.replace(/^(?=.)/gm, prefix) : text;
    await this.wait(this.emit(body));
  }

  private async wait(waits: Promise<void>[]): Promise<void> {
    if (waits.length > 0) await Promise.all(waits);
  }

  /**
   * Writes (already redacted) text, or its UTF-8 bytes, to the file and the sink; returns what to
   * await when either is full.
   */
  private emit(safe: string | Buffer): Promise<void>[] {
    if (this.closed) return [];
    const waits: Promise<void>[] = [];
    const data = typeof safe === 'string' ? Buffer.from(safe, 'utf8') : safe;
    const sink = this.sink;
    if (sink && !sink.write(data) && sink.once)
      waits.push(new Promise((resolve) => sink.once?.('drain', resolve)));
    if (this.failure || this.file.destroyed) return waits;
    const bytes = data.length;
    this.hash.update(data);
    const flushed = this.file.write(data, (err) => {
      if (err) return;
      this.written += bytes;
      this.changes.emit('change');
    });
    if (!flushed)
      waits.push(
        once(this.file, 'drain').then(
          () => undefined,
          () => undefined, // the error listener kept the reason
        ),
      );
    return waits;
  }

  private timestamp(): string {
    return new Date(this.clock.now()).toISOString().replace('T', ' ');
  }
}
