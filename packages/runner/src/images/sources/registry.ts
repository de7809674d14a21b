/**
 * @module images/sources/registry
 * Images named by a registry reference (`name` or `{type: docker-image, name}`). One on the engine
 * already is used as it is (tasks cannot re-point a tag: task images are loaded untagged); else it
 * is pulled, with the worker config's `registries` credentials for its host (then the task needs
 * `docker-worker:image:<name>`), retried with backoff, and run by the image id that the digest the
 * registry answered names: a tag re-pointed after the pull changes nothing.
 */
import { DockerError } from '../../docker/docker-client.js';
import type { PullEvent, RegistryAuth } from '../../docker/image-engine.js';
import type { WorkerConfig } from '../../config.js';
import { failure, resourceUnavailable } from '../../errors.js';
import type { TaskRun } from '../../run-context.js';
import { Progress } from '../progress.js';
import type { ImageSource, ResolvedImage } from '../source.js';
import { AttemptsExhausted, withBackoff } from './backoff.js';

export const IMAGE_SCOPE_PREFIX = 'docker-worker:image:';
const DOCKER_HUB = ['docker.io', 'index.docker.io', 'registry-1.docker.io', 'registry.hub.docker.com'];

export interface ImageReference {
  /** Host and path, no tag or digest (`127.0.0.1:5000/team/app`, `debian`). */
  repository: string;
  /** The registry host (`docker.io` when the name has none). */
  host: string;
  tag?: string;
  digest?: string;
}

export function parseImageName(name: string): ImageReference {
  let rest = name;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) [rest, digest] = [rest.slice(0, at), rest.slice(at + 1)];
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) [rest, tag] = [rest.slice(0, colon), rest.slice(colon + 1)];
  const first = rest.split('/')[0] ?? '';
  const explicitHost = rest.includes('/') && (/[.:]/.test(first) || first === 'localhost');
  return {
    repository: rest,
    host: explicitHost ? first : 'docker.io',
    ...(tag ? { tag } : {}),
    ...(digest ? { digest } : {}),
  };
}

/** The name as pulled and as scopes name it: `repo@digest`, else `repo:tag` (`latest` by default). */
export function fullImageName(ref: ImageReference): string {
  return ref.digest ? `${ref.repository}@${ref.digest}` : `${ref.repository}:${ref.tag ?? 'latest'}`;
}

/**
 * The credentials the worker config has for the image's registry: a key `<host>/<first path
 * part>` wins over `<host>`, as in the last docker-worker; Docker Hub's host names all match a
 * name without a host.
 */
export function registryAuth(ref: ImageReference, config: WorkerConfig): RegistryAuth | undefined {
  const registries = config.registries ?? {};
  const hosts = ref.host === 'docker.io' ? DOCKER_HUB : [ref.host];
  const path =
    ref.host === 'docker.io' && !ref.repository.startsWith('docker.io/')
      ? ref.repository
      : ref.repository.split('/').slice(1).join('/');
  const user = path.split('/')[0] ?? '';
  for (const wanted of [(h: string) => `${h}/${user}`, (h: string) => h, (h: string) => `${h}/`])
    for (const host of hosts) {
      const creds = registries[wanted(host)];
      if (creds)
        return {
          username: creds.username,
          password: creds.password,
          serveraddress: ref.host === 'docker.io' ? 'https://index.docker.io/v1/' : ref.host,
        };
    }
  return undefined;
}

/**
 * A pull refused for good: the engine's 4xx (no such image or tag, access denied), or the
 * registry's refusal of the credentials, which the engine reports as a 500.
 */
const REFUSED =
  /no basic auth credentials|unauthorized|authentication required|access to the resource is denied/i;
const isFinal = (err: unknown): boolean => {
  const status = (err as DockerError).statusCode;
  return (
    (status !== undefined && status >= 400 && status < 500) || REFUSED.test((err as Error).message ?? '')
  );
};

function pullProgress(run: TaskRun): (e: PullEvent) => void {
  const seen = new Map<string, string>();
  const layers = new Map<string, { current: number; total: number }>();
  const bytes = new Progress('  Downloaded', run.clock, (line) => run.liveLog.info(line));
  return (e) => {
    const key = e.id ?? '';
    if (e.status === 'Downloading' && e.current !== undefined) {
      layers.set(key, { current: e.current, total: e.total ?? 0 });
      let done = 0;
      let total = 0;
      for (const l of layers.values()) [done, total] = [done + l.current, total + l.total];
      bytes.update(done, total);
    }
    if (!e.status || seen.get(key) === e.status) return;
    seen.set(key, e.status);
    run.liveLog.info(`  ${e.id ? `${e.id}: ${e.status}` : e.status}`);
  };
}

export const registrySource: ImageSource<string> = {
  requiredScopes(name, _task, config) {
    const ref = parseImageName(name);
    return registryAuth(ref, config) ? [[`${IMAGE_SCOPE_PREFIX}${fullImageName(ref)}`]] : [];
  },

  async resolve(name, run): Promise<ResolvedImage> {
    const { docker, liveLog } = run;
    const present = await docker.inspectImage(name);
    if (present)
      return {
        id: present.id,
        ref: name,
        ...(present.digest ? { digest: present.digest } : {}),
        reused: true,
      };
    const ref = parseImageName(name);
    const auth = registryAuth(ref, run.config);
    const pullName = fullImageName(ref);
    liveLog.info(`Pulling docker image ${name}`);
    let digest: string | undefined;
    try {
      digest = await withBackoff(run, {
        run: () =>
          docker.imageEngine.pull(pullName, {
            ...(auth ? { auth } : {}),
            onEvent: pullProgress(run),
            signal: run.signal,
          }),
        retryable: (err) => !isFinal(err),
        onRetry: (err, attempt, delay) =>
          liveLog.error(
            `Pulling docker image ${name} failed (attempt ${attempt}): ${(err as Error).message}; retrying in ${(delay / 1000).toFixed(1)} s`,
          ),
      });
    } catch (err) {
      run.signal.throwIfAborted();
      if (err instanceof AttemptsExhausted)
        throw resourceUnavailable(
          `Pulling docker image ${name} has failed after ${err.attempts} attempts: ${err.message}`,
          err,
        );
      throw failure(`Pulling docker image ${name} has failed: ${(err as Error).message}`, err);
    }
    // The image the digest names, not whatever the tag points at by now.
    const pinned = ref.digest ? pullName : digest ? `${ref.repository}@${digest}` : undefined;
    const info = await docker.inspectImage(pinned ?? pullName);
    if (!info)
      throw failure(`Pulling docker image ${name} has failed: the engine does not have it after the pull`);
    return { id: info.id, ref: name, ...(pinned ? { digest: pinned } : {}), reused: false, source: 'pull' };
  },
};
