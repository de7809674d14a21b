/**
 * @module features/live-log
 * First to start, last to finish: writes the last docker-worker's header (its lines, words and
 * order: tools parse it), then ours; at the run's end (`finish`: locally after the clean-up, so no
 * clean-up error can follow it; in queue mode while the containers are being removed) its footer, the last `[taskcluster …]` line, then closes the log and stores it as
 * `public/logs/live_backing.log` (named after payload.log when given), and the bulk log when asked
 * (`bulk-log.ts`). In queue mode the live log artifact is a `reference` to the worker's log server
 * while the task runs, then a `link` to the stored log, unless features.localLiveLog is false (or
 * the worker config's features.localLiveLog.enabled). A cancelled run's log is not stored.
 */
import { createReadStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { posix } from 'node:path';
import { featureEnabled } from '../config.js';
import { storeBulkLog } from './bulk-log.js';
import type { Feature, Outcome, TaskRun } from './feature.js';
import { VERSION } from '../version.js';

const DEFAULT_NAME = 'public/logs/live.log';

const TEXT = 'text/plain; charset=utf-8';

/** payload.log, else `public/logs/live.log`. */
export const liveLogName = (logName: unknown): string =>
  typeof logName === 'string' && logName.length > 0 ? logName : DEFAULT_NAME;

/** `public/logs/live.log` → `public/logs/live_backing.log` (dir + name + `_backing` + ext). */
export function backingLogName(logName: unknown): string {
  const { dir, name: base, ext } = posix.parse(liveLogName(logName));
  return posix.join(dir, `${base}_backing${ext}`);
}

export const liveLog: Feature = {
  name: 'liveLog',
  isEnabled: () => true,
  isRequested: () => true,
  async start(run) {
    const { config, task, liveLog: log } = run;
    for (const line of header(run)) log.info(line);
    const asked = task.payload?.features?.localLiveLog;
    const live = asked !== false && featureEnabled(config, 'localLiveLog');
    if (asked === true && !live)
      log.info(
        'features.localLiveLog is off on this worker (worker config features.localLiveLog.enabled): the log is stored at the end',
      );
    if (run.liveLogUrl && live) {
      // While the task runs, the live log artifact points at the worker's own log server.
      await run.artifacts
        .putReference(liveLogName(task.payload?.log), run.liveLogUrl, {
          contentType: TEXT,
          expires: task.expires,
        })
        .catch((err: unknown) => {
          run.log.warn({ err: String(err) }, 'live log reference not created');
          log.error(
            `The live log could not be published (${(err as Error).message}); the log is stored at the end`,
          );
        });
    }
    return { finish: (outcome) => finish(run, outcome, live) };
  },
};

/** The last docker-worker's header lines in its order (task.js writeLogHeader), then ours. */
function header({ config, task }: TaskRun): string[] {
  return [
    `Task ID: ${task.taskId}`,
    `Worker ID: ${config.workerId}`,
    `Worker Group: ${config.workerGroup}`,
    `Worker Node Type: ${config.instanceType}`,
    `Worker Pool: ${config.taskQueueId}`,
    `Worker Version: ${VERSION}`,
    `Public IP: ${config.publicIp}`,
    `Hostname: ${hostname()}`,
    `Worker Type: ${config.workerType}`,
    `Run ID: ${task.runId}`,
  ];
}

async function finish(run: TaskRun, outcome: Outcome, live: boolean): Promise<void> {
  const { liveLog: log, task } = run;
  const seconds = (outcome.durationMs / 1000).toFixed(3);
  const code = outcome.exitCode ?? -1;
  const word = outcome.state === 'completed' ? 'Successful' : 'Unsuccessful';
  // The footer is the last worker line: log viewers and failure classifiers look for it there.
  if (outcome.state !== 'completed')
    log.info(
      `Resolution: ${outcome.state}${outcome.state === 'exception' ? ` (${outcome.reasonResolved})` : ''}`,
    );
  log.info(`${word} task run with exit code: ${code} completed in ${seconds} seconds`);
  await log.close();
  try {
    if (outcome.reasonResolved === 'canceled') return;
    const backing = backingLogName(task.payload?.log);
    const meta = { contentType: TEXT, expires: task.expires, gzip: true };
    // The closed log is this run's no more: a sink that can move it does (a rename locally).
    const stored = run.artifacts.moveFile
      ? await run.artifacts.moveFile(
          backing,
          log.path,
          meta,
          log.sha256 === undefined ? undefined : { size: log.bytesWritten, sha256: log.sha256 },
        )
      : await run.artifacts.putFile(backing, createReadStream(log.path), meta);
    await storeBulkLog(run, run.artifacts.moveFile ? stored.path : log.path);
    await run.artifacts.settle();
    // The live log's reference becomes a link to the stored log.
    if (run.liveLogUrl && live) {
      await run.artifacts.putLink(liveLogName(task.payload?.log), backing, {
        contentType: TEXT,
        expires: task.expires,
      });
    }
  } finally {
    await rm(log.path, { force: true });
  }
}
