/**
 * @module blob
 * Deterministic test data of any size, streamed with back-pressure (never held whole in memory).
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';

const CHUNK = Buffer.alloc(64 * 1024, 0);
for (let i = 0; i < CHUNK.length; i++) CHUNK[i] = (i * 31 + 7) & 0xff;

/** A stream of `bytes` bytes: a fixed 64 KiB pattern repeated. */
export function blobStream(bytes: number): Readable {
  let left = bytes;
  return new Readable({
    read() {
      if (left <= 0) {
        this.push(null);
        return;
      }
      const n = Math.min(left, CHUNK.length);
      left -= n;
      this.push(n === CHUNK.length ? CHUNK : CHUNK.subarray(0, n));
    },
  });
}

const digests = new Map<number, string>();

/** The hex SHA-256 of `blobStream(bytes)`, computed without materialising it (once per size). */
export function blobSha256(bytes: number): string {
  let digest = digests.get(bytes);
  if (digest === undefined) {
    const hash = createHash('sha256');
    for (let left = bytes; left > 0; left -= CHUNK.length)
      hash.update(left >= CHUNK.length ? CHUNK : CHUNK.subarray(0, left));
    digest = hash.digest('hex');
    digests.set(bytes, digest);
  }
  return digest;
}
