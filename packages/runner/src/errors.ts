/**
 * @module errors
 * One error class that carries a Taskcluster resolution: `failed`, or `exception` with one of the
 * queue's reportException reasons. `message` is for the task author: it says what to change.
 */
export type ExceptionReason =
  'malformed-payload' | 'resource-unavailable' | 'internal-error' | 'intermittent-task' | 'worker-shutdown';
/**
 * `canceled` is the queue's own reason (never reported by a worker): the run was cancelled or
 * resolved by someone else (a reclaim answered 409). Nothing more is uploaded or reported for it.
 */
export type Resolution = 'failed' | ExceptionReason | 'canceled';

export class TaskError extends Error {
  override readonly name = 'TaskError';
  constructor(
    readonly resolution: Resolution,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

export const malformedPayload = (message: string, cause?: unknown): TaskError =>
  new TaskError('malformed-payload', message, { cause });
export const resourceUnavailable = (message: string, cause?: unknown): TaskError =>
  new TaskError('resource-unavailable', message, { cause });
export const internalError = (message: string, cause?: unknown): TaskError =>
  new TaskError('internal-error', message, { cause });
export const failure = (message: string, cause?: unknown): TaskError =>
  new TaskError('failed', message, { cause });
export const workerShutdown = (message: string, cause?: unknown): TaskError =>
  new TaskError('worker-shutdown', message, { cause });
export const canceled = (message: string, cause?: unknown): TaskError =>
  new TaskError('canceled', message, { cause });
export const intermittentTask = (message: string, cause?: unknown): TaskError =>
  new TaskError('intermittent-task', message, { cause });

/** Anything thrown that is not a TaskError is a worker bug: internal-error, keeping the cause. */
export function toTaskError(err: unknown, signal?: AbortSignal): TaskError {
  if (err instanceof TaskError) return err;
  if (signal?.aborted && signal.reason instanceof TaskError) return signal.reason;
  const text = err instanceof Error ? err.message : String(err);
  return internalError(`worker error: ${text}`, err);
}

/** A user-facing error of the CLI or the config (exit 64), one line. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

const FILE_PROBLEMS: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'it is a directory',
  ENOTDIR: 'a part of the path is not a directory',
  EROFS: 'read-only file system',
};

/** A file system error in words, e.g. `no such file or directory (ENOENT)`. */
export function fileProblem(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (!code) return err instanceof Error ? err.message : String(err);
  return FILE_PROBLEMS[code] ? `${FILE_PROBLEMS[code]} (${code})` : code;
}
