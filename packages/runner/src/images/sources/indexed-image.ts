/**
 * @module images/sources/indexed-image
 * `{type: indexed-image, namespace, path}`: the index's findTask(namespace) with the task's scopes
 * (`index:find-task:<namespace>`, retried with backoff on 5xx and network errors), then the
 * artifact `path` of that task as a task image (task-image.ts).
 */
import { malformedPayload, resourceUnavailable } from '../../errors.js';
import { isRetryable, statusOf } from '../../worker/retry.js';
import type { ImageSource } from '../source.js';
import { AttemptsExhausted, withBackoff } from './backoff.js';
import { artifactScopes, resolveArtifactImage } from './task-image.js';
import { findTask } from './taskcluster.js';

export interface IndexedImageRef {
  namespace: string;
  path: string;
}

export const indexedImageSource: ImageSource<IndexedImageRef> = {
  requiredScopes: (ref) => [[`index:find-task:${ref.namespace}`, ...artifactScopes(ref.path)]],

  async resolve(ref, run) {
    if (!run.rootUrl)
      throw malformedPayload(
        `payload.image: index namespace ${ref.namespace} needs a Taskcluster deployment, and this worker has no root URL; set rootUrl in the worker config (or TASKCLUSTER_ROOT_URL)`,
      );
    const auth = { ...(run.credentials ? { credentials: run.credentials } : {}), scopes: run.task.scopes };
    let taskId: string;
    try {
      taskId = await withBackoff(run, {
        run: () => findTask(run.rootUrl, ref.namespace, auth),
        retryable: isRetryable,
        onRetry: (err, attempt, delay) =>
          run.liveLog.error(
            `Finding the task indexed at ${ref.namespace} failed (attempt ${attempt}): ${(err as Error).message}; retrying in ${(delay / 1000).toFixed(1)} s`,
          ),
      });
    } catch (err) {
      run.signal.throwIfAborted();
      const message = ((err as Error).message ?? String(err)).split('\n')[0];
      if (err instanceof AttemptsExhausted)
        throw resourceUnavailable(
          `Finding the task indexed at ${ref.namespace} has failed after ${err.attempts} attempts: ${message}`,
          err,
        );
      const status = statusOf(err);
      if (status === 404)
        throw malformedPayload(
          `payload.image: no task is indexed at ${ref.namespace} (or it expired); check payload.image.namespace`,
          err,
        );
      throw malformedPayload(
        `payload.image: the index refused findTask(${ref.namespace}) (${status ?? ''} ${message})`,
        err,
      );
    }
    run.liveLog.info(`Index namespace ${ref.namespace} names task ${taskId}`);
    return resolveArtifactImage({ taskId, path: ref.path }, run, ` (index ${ref.namespace})`);
  },
};
