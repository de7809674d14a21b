/**
 * @module storage/blob-store
 * Bytes on disk, one file per key under a directory: streamed in (never held whole in memory),
 * with the Content-Type and Content-Encoding they were stored with and their SHA-256.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { HttpError } from '../errors.js';

export interface BlobMeta {
  contentType: string;
  contentEncoding?: string;
}

export interface StoredBlob extends BlobMeta {
  length: number;
  sha256: string;
  path: string;
}

export class BlobStore {
  private readonly blobs = new Map<string, StoredBlob>();

  constructor(private readonly dir: string) {}

  get(key: string): StoredBlob | undefined {
    return this.blobs.get(key);
  }

  open(key: string): Readable {
    const blob = this.blobs.get(key);
    if (!blob) throw new HttpError(404, `No data stored for ${key}`, 'ResourceNotFound');
    return createReadStream(blob.path);
  }

  /** Streams `body` to disk; exactly `expectedLength` bytes must arrive, else nothing is stored. */
  async write(
    key: string,
    body: Readable | Buffer,
    meta: BlobMeta,
    expectedLength?: number,
  ): Promise<StoredBlob> {
    const hash = createHash('sha256');
    let length = 0;
    const counter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        length += chunk.length;
        hash.update(chunk);
        done(null, chunk);
      },
    });
    const name = createHash('sha256').update(key).digest('hex');
    const tmp = join(this.dir, `${name}.${randomBytes(6).toString('hex')}.part`);
    try {
      if (Buffer.isBuffer(body)) {
        counter.end(body);
        await pipeline(counter, createWriteStream(tmp));
      } else {
        await pipeline(body, counter, createWriteStream(tmp));
      }
      if (expectedLength !== undefined && length !== expectedLength)
        throw new HttpError(
          400,
          `You did not provide the number of bytes specified by the Content-Length HTTP header (${length} of ${expectedLength})`,
          'IncompleteBody',
        );
      const path = join(this.dir, name);
      await rename(tmp, path);
      const blob: StoredBlob = { ...meta, length, sha256: hash.digest('hex'), path };
      this.blobs.set(key, blob);
      return blob;
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
  }
}
