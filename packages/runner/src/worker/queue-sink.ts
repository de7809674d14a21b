/**
 * @module worker/queue-sink
 * The ArtifactSink of a claimed run: every file is first spooled to a temporary file in the
 * work directory (streamed, never held in memory; hashed; gzipped when asked and stored as s3),
 * then uploaded in the background, at most `concurrency` at once, as `object` (the object
 * service, through taskcluster-client's upload) or `s3` (PUT to the queue's putUrl). Every call is
 * retried on 5xx and network errors with the same upload. `settle()` waits for them all: an upload
 * that still fails is exception/resource-unavailable (the infrastructure, not the task).
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import type { Logger } from 'pino';
import type { ArtifactErrorRecord, ArtifactRecord, ArtifactSink, FileMeta } from '../artifacts/sink.js';
import { hashing } from '../artifacts/hashing.js';
import type { Clock } from '../clock.js';
import { internalError, malformedPayload, resourceUnavailable, TaskError } from '../errors.js';
import { isRetryable, statusOf, withRetries } from './retry.js';
import { putFile } from './s3-put.js';
import type { CreateArtifactRequest, QueueClient, TaskclusterClients } from './taskcluster.js';

export interface QueueSinkOptions {
  taskId: string;
  runId: number;
  /** The run's queue client, with the latest task credentials. */
  queue: () => QueueClient;
  clients: Pick<TaskclusterClients, 'uploadObject' | 'artifactUrl'>;
  storageType: 'object' | 's3';
  concurrency: number;
  workDir: string;
  clock: Clock;
  log: Logger;
  /** Retries stop before this time (the claim's end). */
  until: () => number;
}

export interface QueueSink extends ArtifactSink {
  /** Waits for every upload started so far; throws the first failure. */
  settle(): Promise<void>;
  /** Removes the spool directory. */
  close(): Promise<void>;
}

export async function createQueueSink(opts: QueueSinkOptions): Promise<QueueSink> {
  const spool = await mkdtemp(join(opts.workDir, `upload-${opts.taskId}-${opts.runId}-`));
  const records: ArtifactRecord[] = [];
  const errors: ArtifactErrorRecord[] = [];
  const pending = new Set<Promise<void>>();
  const failures: TaskError[] = [];
  let running = 0;
  const waiting: (() => void)[] = [];
  let counter = 0;
  const runId = String(opts.runId);

  const call = <T>(what: string, fn: (queue: QueueClient) => Promise<T>): Promise<T> =>
    withRetries(() => fn(opts.queue()), {
      clock: opts.clock,
      until: opts.until(),
      onRetry: (err, attempt, delayMs) =>
        opts.log.warn({ err: String(err), attempt, delayMs, what }, 'queue call failed; retrying'),
    }).catch((err: unknown) => {
      throw queueFailure(what, err);
    });
  const create = (name: string, body: CreateArtifactRequest) =>
    call(`createArtifact ${name}`, (q) => q.createArtifact(opts.taskId, runId, name, body));

  async function slot<T>(fn: () => Promise<T>): Promise<T> {
    while (running >= opts.concurrency) await new Promise<void>((r) => waiting.push(r));
    running++;
    try {
      return await fn();
    } finally {
      running--;
      waiting.shift()?.();
    }
  }

  async function upload(
    name: string,
    file: string,
    size: number,
    meta: FileMeta,
    gzip: boolean,
  ): Promise<void> {
    const expires = meta.expires.toISOString();
    const created = await create(name, {
      storageType: opts.storageType,
      expires,
      contentType: meta.contentType,
      contentLength: size,
    });
    if (opts.storageType === 's3') {
      if (!created.putUrl) throw new Error(`createArtifact ${name} gave no putUrl`);
      const putUrl = created.putUrl;
      await withRetries(
        () =>
          putFile(putUrl, file, {
            contentType: meta.contentType,
            contentLength: size,
            ...(gzip ? { contentEncoding: 'gzip' } : {}),
          }),
        { clock: opts.clock, until: opts.until(), attempts: 10 },
      );
      return;
    }
    const { name: objectName, projectId, uploadId, credentials } = created;
    if (!objectName || !projectId || !uploadId || !credentials)
      throw new Error(
        `createArtifact ${name} gave no object upload (name, projectId, uploadId, credentials)`,
      );
    await opts.clients.uploadObject({
      name: objectName,
      projectId,
      uploadId,
      credentials,
      expires: new Date(created.expires ?? expires),
      contentType: meta.contentType,
      contentLength: size,
      streamFactory: async () => createReadStream(file),
    });
    await call(`finishArtifact ${name}`, (q) => q.finishArtifact(opts.taskId, runId, name, { uploadId }));
  }

  return {
    records,
    errors,
    encodesGzip: opts.storageType === 's3',
    async putFile(name: string, body: Readable, meta: FileMeta): Promise<ArtifactRecord> {
      // Only s3 uploads carry a Content-Encoding; the object service fixes its own headers.
      const gzip = meta.gzip === true && opts.storageType === 's3';
      const file = join(spool, String(++counter));
      const out = createWriteStream(file, { mode: 0o600 });
      const hash = hashing();
      await (gzip ? pipeline(body, hash.stream, createGzip(), out) : pipeline(body, hash.stream, out));
      const { size } = await stat(file);
      const record: ArtifactRecord = {
        name,
        path: opts.clients.artifactUrl(opts.taskId, opts.runId, name),
        contentType: meta.contentType,
        expires: meta.expires.toISOString(),
        sha256: hash.sha256(),
      };
      const job = slot(() => upload(name, file, size, meta, gzip))
        .then(
          () => void records.push(record),
          (err: unknown) => {
            opts.log.warn({ err: String(err), artifact: name }, 'artifact upload failed');
            failures.push(
              err instanceof TaskError
                ? err
                : resourceUnavailable(`Error uploading "${name}" artifact: ${(err as Error).message}`, err),
            );
          },
        )
        .finally(() => {
          pending.delete(job);
          void rm(file, { force: true });
        });
      pending.add(job);
      return record;
    },
    async putError(name, error) {
      const expires = error.expires.toISOString();
      await create(name, { storageType: 'error', expires, reason: error.reason, message: error.message });
      const record = { name, reason: error.reason, message: error.message, expires };
      errors.push(record);
      return record;
    },
    async putReference(name, url, meta) {
      await create(name, {
        storageType: 'reference',
        expires: meta.expires.toISOString(),
        contentType: meta.contentType,
        url,
      });
    },
    async putLink(name, target, meta) {
      await create(name, {
        storageType: 'link',
        expires: meta.expires.toISOString(),
        contentType: meta.contentType,
        artifact: target,
      });
    },
    async settle() {
      while (pending.size > 0) await Promise.all([...pending]);
      const first = failures[0];
      failures.length = 0;
      if (first) throw first;
    },
    async close() {
      await rm(spool, { recursive: true, force: true });
    },
  };
}

/** A queue call that failed for good, as a resolution: still down (5xx, network) is the infrastructure. */
function queueFailure(what: string, err: unknown): TaskError {
  const status = statusOf(err);
  const text = `${what}: ${(err as Error).message ?? String(err)}`;
  if (isRetryable(err)) return resourceUnavailable(`the queue did not answer ${text}`, err);
  if (status === 400 || status === 409) return malformedPayload(`the queue refused ${text}`, err);
  return internalError(`the queue refused ${text}`, err);
}
