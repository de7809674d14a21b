/**
 * @module artifacts/sink
 * Where artifacts go: a directory in local mode (`local-sink.ts`), the queue in queue mode
 * (`worker/queue-sink.ts`).
 */
import type { Readable } from 'node:stream';

export type ArtifactErrorReason = 'file-missing-on-worker' | 'invalid-resource-on-worker';

export interface ArtifactRecord {
  name: string;
  /** Where it landed (a file path locally, a URL in queue mode). */
  path: string;
  contentType: string;
  expires: string;
  /** Hex sha256 of a stored file's bytes (before any gzip); absent for references and links. */
  sha256?: string;
}

export interface ArtifactErrorRecord {
  name: string;
  reason: ArtifactErrorReason;
  message: string;
  expires: string;
}

export interface FileMeta {
  contentType: string;
  expires: Date;
  size?: number;
  /** The sink may store it gzip-encoded (`Content-Encoding: gzip`; HTTP readers decode it). */
  gzip?: boolean;
}

export interface ArtifactSink {
  /** Whether `putFile` with `gzip: true` stores it with `Content-Encoding: gzip` (queue mode, s3). */
  readonly encodesGzip?: boolean;
  putFile(name: string, body: Readable, meta: FileMeta): Promise<ArtifactRecord>;
  /**
   * Optional: stores the file at `path`, which the caller no longer needs, by moving it where a
   * copy would go (local mode: a rename instead of rewriting a log of a gigabyte). The returned
   * record's `path` is where it is now. Sinks without it get `putFile` of a read stream. `known`:
   * the file's size and digest when the caller has them (the live log hashes what it writes).
   */
  moveFile?(
    name: string,
    path: string,
    meta: FileMeta,
    known?: { size: number; sha256: string },
  ): Promise<ArtifactRecord>;
  /** A `reference` artifact: readers are redirected to `url` (the live log while it runs). */
  putReference(name: string, url: string, meta: { contentType: string; expires: Date }): Promise<void>;
  /** A `link` artifact: `name` serves the artifact `target` of the same run. */
  putLink(name: string, target: string, meta: { contentType: string; expires: Date }): Promise<void>;
  putError(
    name: string,
    error: { reason: ArtifactErrorReason; message: string; expires: Date },
  ): Promise<ArtifactErrorRecord>;
  /** Waits until everything put so far is stored; throws the first failure (a TaskError). */
  settle(): Promise<void>;
  readonly records: readonly ArtifactRecord[];
  readonly errors: readonly ArtifactErrorRecord[];
}
