/**
 * @module images/lz4-frame
 * A streaming decoder of the LZ4 frame format (what the `lz4` CLI and liblz4's frame API write):
 * frame header, blocks (compressed or stored, independent or linked through the previous 64 KiB),
 * optional block and content checksums (skipped), concatenated and skippable frames. The block
 * codec is lz4js's `decompressBlock`; lz4js's own frame reader needs the whole file in memory (and
 * misreads block checksums), so the frame layer is ours.
 */
import { Transform, type TransformCallback } from 'node:stream';

interface Lz4js {
  decompressBlock(src: Uint8Array, dst: Uint8Array, sIndex: number, sLength: number, dIndex: number): number;
}

const MAGIC = 0x184d2204;
const WINDOW = 64 * 1024;
const BLOCK_MAX = [0, 0, 0, 0, 64 * 1024, 256 * 1024, 1024 * 1024, 4 * 1024 * 1024];

type State =
  { at: 'magic' } | { at: 'header' } | { at: 'block' } | { at: 'checksum' } | { at: 'skip'; left: number };

export class Lz4FrameDecoder extends Transform {
  private buf: Buffer = Buffer.alloc(0);
  private state: State = { at: 'magic' };
  private blockMax = 0;
  private linked = false;
  private blockSum = false;
  private contentSum = false;
  private window: Buffer = Buffer.alloc(0);

  constructor(private readonly lz4: Lz4js) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    try {
      while (this.step());
      cb();
    } catch (err) {
      cb(err as Error);
    }
  }

  override _flush(cb: TransformCallback): void {
    if (this.state.at !== 'magic' || this.buf.length > 0)
      return cb(new Error('the lz4 stream ends in the middle of a frame (truncated download?)'));
    cb();
  }

  /** Consumes one unit when enough bytes are there; false when it needs more. */
  private step(): boolean {
    const b = this.buf;
    switch (this.state.at) {
      case 'magic': {
        if (b.length < 4) return false;
        const magic = b.readUInt32LE(0);
        if ((magic & 0xfffffff0) === 0x184d2a50) {
          if (b.length < 8) return false;
          this.state = { at: 'skip', left: b.readUInt32LE(4) };
          this.consume(8);
          return true;
        }
        if (magic !== MAGIC) throw new Error('not an lz4 frame (bad magic number)');
        this.consume(4);
        this.state = { at: 'header' };
        return true;
      }
      case 'header': {
        if (b.length < 2) return false;
        const flg = b[0] ?? 0;
        const size = 3 + (flg & 0x08 ? 8 : 0) + (flg & 0x01 ? 4 : 0);
        if (b.length < size) return false;
        if (flg >> 6 !== 1) throw new Error('unsupported lz4 frame version');
        this.linked = (flg & 0x20) === 0;
        this.blockSum = (flg & 0x10) !== 0;
        this.contentSum = (flg & 0x04) !== 0;
        this.blockMax = BLOCK_MAX[((b[1] ?? 0) >> 4) & 7] ?? 0;
        if (!this.blockMax) throw new Error('invalid lz4 block size');
        this.window = Buffer.alloc(0);
        this.consume(size);
        this.state = { at: 'block' };
        return true;
      }
      case 'block': {
        if (b.length < 4) return false;
        const word = b.readUInt32LE(0);
        if (word === 0) {
          this.consume(4);
          this.state = this.contentSum ? { at: 'checksum' } : { at: 'magic' };
          return true;
        }
        const stored = (word & 0x80000000) !== 0;
        const len = word & 0x7fffffff;
        if (len > this.blockMax) throw new Error('corrupt lz4 block (larger than the frame allows)');
        const total = 4 + len + (this.blockSum ? 4 : 0);
        if (b.length < total) return false;
        const data = b.subarray(4, 4 + len);
        this.output(stored ? Buffer.from(data) : this.decode(data));
        this.consume(total);
        return true;
      }
      case 'checksum':
        if (b.length < 4) return false;
        this.consume(4);
        this.state = { at: 'magic' };
        return true;
      case 'skip': {
        const n = Math.min(this.state.left, b.length);
        this.consume(n);
        this.state = this.state.left === n ? { at: 'magic' } : { at: 'skip', left: this.state.left - n };
        return b.length > n || this.state.at === 'magic';
      }
    }
  }

  private decode(data: Buffer): Buffer {
    const prefix = this.linked ? this.window.length : 0;
    const dst = Buffer.alloc(prefix + this.blockMax);
    if (prefix) this.window.copy(dst);
    const end = this.lz4.decompressBlock(data, dst, 0, data.length, prefix);
    if (end > dst.length) throw new Error('corrupt lz4 block');
    return dst.subarray(prefix, end);
  }

  private output(out: Buffer): void {
    if (this.linked) {
      const joined = Buffer.concat([this.window, out]);
      this.window = Buffer.from(joined.subarray(Math.max(0, joined.length - WINDOW)));
    }
    this.push(out);
  }

  private consume(n: number): void {
    this.buf = this.buf.subarray(n);
  }
}
