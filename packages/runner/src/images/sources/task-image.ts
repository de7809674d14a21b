/**
 * @module images/sources/task-image
 * `{type: task-image, taskId, path}`: a `docker save` tarball (`.tar`, `.tar.zst`, `.tar.lz4`)
 * that an earlier task stored as an artifact. Streamed: download → decompress → names stripped →
 * `docker load`, no temporary file; the download is retried with backoff on 5xx and network
 * errors. The loaded image is tagged with a name no task can choose (`source.ts`) and reused by
 * every later task of this worker that names the same artifact; concurrent runs share one load.
 */
import { createHash } from 'node:crypto';
import { Transform, pipeline } from 'node:stream';
import type { ImageEngine } from '../../docker/image-engine.js';
import { malformedPayload, resourceUnavailable, TaskError } from '../../errors.js';
import type { TaskRun } from '../../run-context.js';
import { decompressor, formatOf, type ImageFormat } from '../decompress.js';
import { httpGet, type HttpResponse } from '../http-get.js';
import { Progress } from '../progress.js';
import { TASK_IMAGE_REPO, taskImageName, type ImageSource, type ResolvedImage } from '../source.js';
import { stripTags } from '../strip-tags.js';
import { AttemptsExhausted, withBackoff } from './backoff.js';
import { artifactUrl } from './taskcluster.js';

export interface TaskImageRef {
  taskId: string;
  path: string;
}

const isPublic = (path: string): boolean => /^\/?public\//.test(path);

/** The scopes to read an artifact: none for `public/` names, else `queue:get-artifact:<path>`. */
export const artifactScopes = (path: string): string[] =>
  isPublic(path) ? [] : [`queue:get-artifact:${path}`];

/** The artifact could not be fetched: an HTTP answer other than 200, or no answer. */
class DownloadError extends Error {
  constructor(
    readonly status: number | undefined,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** A loaded artifact: the engine's image id and the artifact's sha256 (hex). */
interface Loaded {
  id: string;
  sha256: string;
}

/** Loads shared by concurrent runs of one worker, per engine and reserved name. */
const inflight = new WeakMap<ImageEngine, Map<string, Promise<Loaded>>>();
/**
 * The artifact hashes of the loads this process made, per engine and reserved name: what a reuse
 * certifies when the run has no image-usage record (the record keeps them across restarts).
 */
const loadedHashes = new WeakMap<ImageEngine, Map<string, string>>();

const errorMessage = (body: string): string => {
  try {
    return String((JSON.parse(body) as { message?: unknown }).message ?? body).split('\n')[0] ?? '';
  } catch {
    return body.slice(0, 200);
  }
};

async function loadOnce(run: TaskRun, ref: TaskImageRef, format: ImageFormat, what: string): Promise<Loaded> {
  const url = await artifactUrl(run.rootUrl, ref.taskId, ref.path, {
    ...(run.credentials ? { credentials: run.credentials } : {}),
    scopes: run.task.scopes,
  });
  const controller = new AbortController();
  const stop = (): void => controller.abort(run.signal.reason);
  run.signal.addEventListener('abort', stop, { once: true });
  try {
    let res: HttpResponse;
    try {
      res = await httpGet(url, controller.signal);
    } catch (err) {
      throw new DownloadError(undefined, (err as Error).message, { cause: err });
    }
    if (res.status !== 200) {
      const body = await res.text().catch(() => '');
      throw new DownloadError(res.status, `${res.status} ${errorMessage(body)}`.trim());
    }
    const total = Number(res.headers['content-length']) || undefined;
    const hash = createHash('sha256');
    const progress = new Progress(`  Downloading and loading ${what}`, run.clock, (l) => run.liveLog.info(l));
    let downloadError: Error | undefined;
    const { body } = res;
    body.once('error', (err) => (downloadError ??= err));
    const meter = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        hash.update(chunk);
        progress.update(progress.bytes + chunk.length, total);
        cb(null, chunk);
      },
    });
    const decoded = pipeline(body, meter, await decompressor(format), (err) => {
      if (err) controller.abort(err);
    });
    try {
      const id = await run.docker.imageEngine.load(await stripTags(decoded), { signal: controller.signal });
      progress.finish();
      return { id, sha256: hash.digest('hex') };
    } catch (err) {
      if (downloadError) throw new DownloadError(undefined, downloadError.message, { cause: downloadError });
      run.signal.throwIfAborted();
      const reason = controller.signal.aborted ? (controller.signal.reason as Error) : (err as Error);
      throw malformedPayload(
        `payload.image: ${what} is not a docker save tarball the engine can load (${reason.message}); make it with \`docker save\` (compressed with zstd or lz4 for .tar.zst/.tar.lz4)`,
        err,
      );
    }
  } finally {
    run.signal.removeEventListener('abort', stop);
  }
}

function finalError(err: DownloadError, ref: TaskImageRef, what: string): TaskError {
  const { status } = err;
  if (status === 404 || status === 410 || status === 424)
    return malformedPayload(
      `payload.image: ${what} cannot be used (${err.message}); check payload.image.taskId and path, and that the task stored it (and that it has not expired)`,
      err,
    );
  if (status === 401 || status === 403)
    return malformedPayload(
      `payload.image: the queue refused ${what} (${err.message}); the task needs the scope queue:get-artifact:${ref.path}`,
      err,
    );
  return malformedPayload(`payload.image: the queue refused ${what} (${err.message})`, err);
}

async function download(
  run: TaskRun,
  ref: TaskImageRef,
  format: ImageFormat,
  name: string,
  what: string,
): Promise<Loaded> {
  run.liveLog.info(`Downloading ${what}`);
  try {
    const { id, sha256 } = await withBackoff(run, {
      run: () => loadOnce(run, ref, format, what),
      retryable: (err) => err instanceof DownloadError && (err.status === undefined || err.status >= 500),
      onRetry: (err, attempt, delay) =>
        run.liveLog.error(
          `Downloading ${what} failed (attempt ${attempt}): ${(err as Error).message}; retrying in ${(delay / 1000).toFixed(1)} s`,
        ),
    });
    await run.docker.imageEngine.tag(id, TASK_IMAGE_REPO, name.slice(TASK_IMAGE_REPO.length + 1));
    run.liveLog.info(`Loaded ${what} (artifact sha256:${sha256}) as ${name}`);
    return { id, sha256 };
  } catch (err) {
    run.signal.throwIfAborted();
    if (err instanceof AttemptsExhausted)
      throw resourceUnavailable(
        `Downloading ${what} has failed after ${err.attempts} attempts: ${err.message}`,
        err,
      );
    if (err instanceof DownloadError) throw finalError(err, ref, what);
    throw err;
  }
}

/** Makes the artifact's image present (loaded now, by a concurrent run, or earlier) and names it. */
export async function resolveArtifactImage(
  ref: TaskImageRef,
  run: TaskRun,
  via = '',
): Promise<ResolvedImage> {
  const what = `artifact ${ref.path} of task ${ref.taskId}${via}`;
  const format = formatOf(ref.path);
  if (!format)
    throw malformedPayload(
      `payload.image.path ${JSON.stringify(ref.path)} is not a docker save tarball name: it must end in .tar, .tar.zst or .tar.lz4`,
    );
  if (!run.rootUrl)
    throw malformedPayload(
      `payload.image: ${what} needs a Taskcluster deployment, and this worker has no root URL; set rootUrl in the worker config (or TASKCLUSTER_ROOT_URL)`,
    );
  const name = taskImageName(run.rootUrl, ref.taskId, ref.path);
  const engine = run.docker.imageEngine;
  const hashes = loadedHashes.get(engine) ?? new Map<string, string>();
  loadedHashes.set(engine, hashes);
  const present = await run.docker.inspectImage(name);
  if (present) {
    run.liveLog.info(`Reusing ${what}, loaded earlier as ${name}: nothing to download`);
    const sha256 = run.imageUsage?.artifactSha256(present.id, name) ?? hashes.get(name);
    return {
      id: present.id,
      ref: name,
      reused: true,
      source: 'load',
      ...(sha256 ? { artifactSha256: sha256 } : {}),
    };
  }
  const loads = inflight.get(engine) ?? new Map<string, Promise<Loaded>>();
  inflight.set(engine, loads);
  const pending = loads.get(name);
  if (pending) {
    run.liveLog.info(`Waiting for another task's download of ${what}`);
    // That run failed or was cancelled: try ourselves. Our own cancel ends the wait.
    const cancel = new Promise<never>((_, reject) => {
      if (run.signal.aborted) reject(run.signal.reason as Error);
      run.signal.addEventListener('abort', () => reject(run.signal.reason as Error), { once: true });
    });
    cancel.catch(() => undefined);
    const loaded = await Promise.race([pending.catch(() => undefined), cancel]);
    if (loaded)
      return { id: loaded.id, ref: name, reused: true, source: 'load', artifactSha256: loaded.sha256 };
  }
  const load = download(run, ref, format, name, what);
  loads.set(name, load);
  try {
    const { id, sha256 } = await load;
    hashes.set(name, sha256);
    return { id, ref: name, reused: false, source: 'load', artifactSha256: sha256 };
  } finally {
    if (loads.get(name) === load) loads.delete(name);
  }
}

export const taskImageSource: ImageSource<TaskImageRef> = {
  requiredScopes: (ref) => {
    const scopes = artifactScopes(ref.path);
    return scopes.length ? [scopes] : [];
  },
  resolve: (ref, run) => resolveArtifactImage(ref, run),
};
