/**
 * @module docker/demux
 * The engine's multiplexed attach stream (no TTY: frames of an 8-byte header — stream type, three
 * zero bytes, a big-endian 32-bit length — then that many bytes) as one stream of the payloads,
 * stdout and stderr in the order the engine sent them. A Transform, so back-pressure reaches the
 * engine's socket: docker-modem's demuxStream writes without looking at `write()`'s answer, and a
 * task printing faster than the live log file takes it grew the worker's memory without bound.
 */
import { Transform, type TransformCallback } from 'node:stream';

const HEADER = 8;
const NO_BYTES = Buffer.alloc(0);

export class DemuxStream extends Transform {
  private pending: Buffer = NO_BYTES;
  /** Payload bytes still due for the current frame (0: a header is next). */
  private due = 0;

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    let buf = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = NO_BYTES;
    // The payloads in one chunk go out as one buffer: a task writing small pieces makes frames of
    // a few KiB, and every buffer pushed costs the reader a turn (decode, write, await).
    const parts: Buffer[] = [];
    let size = 0;
    while (buf.length > 0) {
      if (this.due > 0) {
        const take = Math.min(this.due, buf.length);
        parts.push(buf.subarray(0, take));
        size += take;
        this.due -= take;
        buf = buf.subarray(take);
        continue;
      }
      if (buf.length < HEADER) {
        this.pending = Buffer.from(buf);
        break;
      }
      this.due = buf.readUInt32BE(4);
      buf = buf.subarray(HEADER);
    }
    if (parts.length === 1) this.push(parts[0]);
    else if (parts.length > 1) this.push(Buffer.concat(parts, size));
    cb();
  }

  override _flush(cb: TransformCallback): void {
    // A stream cut inside a header carries no payload: nothing is lost by dropping it.
    this.pending = NO_BYTES;
    cb();
  }
}
