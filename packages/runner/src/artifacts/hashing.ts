/**
 * @module artifacts/hashing
 * A pass-through stream that takes the sha256 of what flows through it (the artifact's own
 * bytes, before any gzip), so a sink can record each stored file's digest (the chain of trust).
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export interface Hashing {
  stream: Transform;
  /** Hex sha256 of everything that went through; call once the stream has finished. */
  sha256(): string;
}

export function hashing(): Hashing {
  const hash = createHash('sha256');
  const stream = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      done(null, chunk);
    },
  });
  let digest: string | undefined;
  return { stream, sha256: () => (digest ??= hash.digest('hex')) };
}

/** Hex sha256 of a file's bytes, read in 1 MiB chunks. */
export async function sha256Of(file: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(file, { highWaterMark: 1 << 20 }), hash);
  return hash.digest('hex');
}
