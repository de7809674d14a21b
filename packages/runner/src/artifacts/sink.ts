/**
 * @module artifacts/sink
 * Where artifacts go: a directory in local mode (`local-sink.ts`), the queue in queue mode.
 */
import type { Readable } from 'node:stream';

export type ArtifactErrorReason = 'file-missing-on-worker' | 'invalid-resource-on-worker';

export interface ArtifactRecord {
  name: string;
  /** Where it landed (a file path locally, a URL in queue mode). */
  path: string;
  contentType: string;
  expires: string;
}

export interface ArtifactErrorRecord {
  name: string;
  reason: ArtifactErrorReason;
  message: string;
  expires: string;
}

export interface ArtifactSink {
  putFile(
    name: string,
    body: Readable,
    meta: { contentType: string; expires: Date; size?: number },
  ): Promise<ArtifactRecord>;
  putError(
    name: string,
    error: { reason: ArtifactErrorReason; message: string; expires: Date },
  ): Promise<ArtifactErrorRecord>;
  readonly records: readonly ArtifactRecord[];
  readonly errors: readonly ArtifactErrorRecord[];
}
