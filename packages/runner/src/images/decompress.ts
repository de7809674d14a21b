/**
 * @module images/decompress
 * The decompressor for a task image artifact, chosen by its name: `.tar.zst` (fzstd, pure JS:
 * Node 20's zlib has no zstd), `.tar.lz4` (our frame reader over lz4js's block codec), `.tar`
 * as it is. Both libraries are loaded on first use, so the CLI does not load them for every task.
 */
import { PassThrough, Transform, type TransformCallback } from 'node:stream';
import { Lz4FrameDecoder } from './lz4-frame.js';

export type ImageFormat = 'tar' | 'zst' | 'lz4';

/** The format a path names, or undefined when it is none of the three. */
export function formatOf(path: string): ImageFormat | undefined {
  if (path.endsWith('.tar.zst')) return 'zst';
  if (path.endsWith('.tar.lz4')) return 'lz4';
  if (path.endsWith('.tar')) return 'tar';
  return undefined;
}

class ZstdDecoder extends Transform {
  private readonly z: { push(chunk: Uint8Array, final?: boolean): void };
  constructor(Decompress: new (ondata: (data: Uint8Array, final: boolean) => void) => ZstdDecoder['z']) {
    super();
    this.z = new Decompress((data) => {
      if (data.length) this.push(Buffer.from(data.buffer, data.byteOffset, data.length));
    });
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    try {
      this.z.push(chunk);
      cb();
    } catch (err) {
      cb(new Error(`the zstd stream is corrupt: ${(err as Error).message}`));
    }
  }
  override _flush(cb: TransformCallback): void {
    try {
      this.z.push(new Uint8Array(0), true);
      cb();
    } catch (err) {
      cb(new Error(`the zstd stream ends early or is corrupt: ${(err as Error).message}`));
    }
  }
}

export async function decompressor(format: ImageFormat): Promise<Transform> {
  if (format === 'zst') {
    const { Decompress } = (await import('fzstd')) as unknown as {
      Decompress: ConstructorParameters<typeof ZstdDecoder>[0];
    };
    return new ZstdDecoder(Decompress);
  }
  if (format === 'lz4') {
    const mod = (await import('lz4js')) as { default?: unknown };
    return new Lz4FrameDecoder((mod.default ?? mod) as ConstructorParameters<typeof Lz4FrameDecoder>[0]);
  }
  return new PassThrough();
}
