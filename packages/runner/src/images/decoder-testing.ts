/**
 * @module images/decoder-testing
 * For the decoders' unit tests: compress with the real CLIs (`zstd`, `lz4`, as whoever made the task
 * image did), sample bytes that compress, and run chunks through a format's decoder.
 */
import { spawnSync } from 'node:child_process';
import { Readable } from 'node:stream';
import { decompressor, type DecompressOptions, type ImageFormat } from './decompress.js';

/** Compresses with the real CLI (`zstd`, `lz4`), as whoever made the task image did. */
export function cli(cmd: string, args: string[], input: Buffer): Buffer {
  const r = spawnSync(cmd, [...args, '-c'], { input, maxBuffer: 64 * 2 ** 20 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${String(r.stderr)}`);
  return r.stdout;
}

/** Bytes that compress (text-like, repeating over a long range), `n` long. */
export function sample(n: number, seed = 1): Buffer {
  const out = Buffer.alloc(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    out[i] = i % 3000 < 1500 ? 97 + (x % 8) : (out[i - 1500] ?? 0);
  }
  return out;
}

/**
 * Runs `chunks` through the format's decoder (in-process unless `opts.commands`); resolves with the
 * output or rejects with its error.
 */
export async function decode(
  format: ImageFormat,
  chunks: Buffer[],
  opts: DecompressOptions = { commands: false },
): Promise<Buffer> {
  const parts: Buffer[] = [];
  const decoder = await decompressor(format, opts);
  for await (const part of Readable.from(chunks).pipe(decoder)) parts.push(part as Buffer);
  return Buffer.concat(parts);
}
