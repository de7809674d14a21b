/**
 * @module features/bulk-log
 * payload.features.bulkLog: the whole task log, gzipped, as `public/logs/terminal_bulk.log.gz`
 * (as the last docker-worker; see `storeBulkLog` for its encoding). The feature only checks that
 * the worker allows it (worker config features.bulkLog.enabled); the live log feature stores it
 * with its backing log, after the footer, through `storeBulkLog`, so it holds every line.
 */
import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { PassThrough } from 'node:stream';
import { createGzip } from 'node:zlib';
import { featureEnabled } from '../config.js';
import type { Feature, TaskRun } from './feature.js';

export const BULK_LOG_NAME = 'public/logs/terminal_bulk.log.gz';

const wanted = (run: Pick<TaskRun, 'task' | 'config'>): boolean =>
  run.task.payload?.features?.bulkLog === true && featureEnabled(run.config, 'bulkLog');

export const bulkLog: Feature = {
  name: 'bulkLog',
  isEnabled: (config) => featureEnabled(config, 'bulkLog'),
  isRequested: (task) => task.payload.features?.bulkLog === true,
  async start() {
    return {};
  },
};

/**
 * Stores the closed log file at `path` gzipped, when the task asked for it and the worker allows
 * it: as the last docker-worker did, text with `Content-Encoding: gzip` (a browser or the UI shows
 * the text, `curl` without `--compressed` gets the gzip) where the sink can (s3); elsewhere (the
 * object service, a local directory) as gzip bytes, application/gzip.
 */
export async function storeBulkLog(run: TaskRun, path: string): Promise<void> {
  if (!wanted(run)) return;
  const expires = run.task.expires;
  if (run.artifacts.encodesGzip) {
    await run.artifacts.putFile(BULK_LOG_NAME, createReadStream(path), {
      contentType: 'text/plain; charset=utf-8',
      expires,
      gzip: true,
    });
    return;
  }
  const gz = new PassThrough();
  const compressing = pipeline(createReadStream(path), createGzip(), gz);
  await Promise.all([
    run.artifacts.putFile(BULK_LOG_NAME, gz, { contentType: 'application/gzip', expires }),
    compressing,
  ]);
}
