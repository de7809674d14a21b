/**
 * @module gc/between-tasks
 * Queue mode's image GC: the claim loop calls the hook whenever no task is running; it collects
 * at most once per `garbageCollection.intervalSeconds` (as docker-worker's `interval`, default
 * 60 s: each collection lists the engine's images and containers), once per `pollingIntervalMs`
 * while the last disk check found the data root short of space, never twice at once, and only
 * with `garbageCollection.betweenTasks`. A GC that fails is logged and never stops the worker.
 * When the data root is still short of space once the images are collected, the worker's cache
 * volumes no run holds are removed too, as docker-worker cleared its unmounted caches: a worker
 * whose caches filled its disk would otherwise stop claiming for good.
 */
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { WorkerConfig } from '../config.js';
import { CacheInstances } from '../caches/instances.js';
import type { DockerClient } from '../docker/docker-client.js';
import { LABEL } from '../docker/labels.js';
import type { ImageUsage } from '../images/image-usage.js';
import { dataRootFree } from './free-space.js';
import { collectImages, type GcResult } from './image-gc.js';

export interface BetweenTasksGcDeps {
  /** The engine client (the cache volumes are cleared only with a whole one). */
  docker: Pick<DockerClient, 'dataRoot' | 'imageEngine'> | DockerClient;
  usage: ImageUsage;
  config: WorkerConfig;
  clock: Clock;
  log: Logger;
  /** Free bytes of a file system (default: statfs). */
  freeBytes?: (path: string) => Promise<number>;
  /** Told each collection's result (tests, metrics). */
  onResult?: (result: GcResult) => void;
}

/** The hook for `WorkerDeps.betweenTasks`, or undefined when the config turns it off. */
export function betweenTasksGc(
  deps: BetweenTasksGcDeps,
): ((state?: { diskShort: boolean }) => Promise<void>) | undefined {
  const { config, clock, log } = deps;
  if (!config.garbageCollection.betweenTasks) return undefined;
  const freeBytes = dataRootFree(deps.docker, deps.freeBytes);
  let last: number | undefined;
  let current: Promise<void> | undefined;
  const every = Math.max(config.pollingIntervalMs, config.garbageCollection.intervalSeconds * 1000);
  return ({ diskShort } = { diskShort: false }) => {
    if (current) return current;
    const wait = diskShort ? config.pollingIntervalMs : every;
    if (last !== undefined && clock.now() - last < wait) return Promise.resolve();
    last = clock.now();
    current = collectImages({
      engine: deps.docker.imageEngine,
      usage: deps.usage,
      clock,
      config,
      freeBytes,
      log,
    })
      .then(async (result) => {
        if (result.removed.length > 0 || result.pruned.removed > 0)
          log.info(
            { images: result.removed.length, bytes: result.bytes, pruned: result.pruned.removed },
            'image gc: done',
          );
        deps.onResult?.(result);
        if (diskShort && 'listByLabel' in deps.docker) await clearCaches(deps.docker, config, freeBytes, log);
      })
      .catch((err: unknown) => log.warn({ err: String(err) }, 'image gc failed; the worker goes on'))
      .finally(() => (current = undefined));
    return current;
  };
}

/** Removes the worker's cache volumes no run holds while the data root is short of space. */
async function clearCaches(
  docker: DockerClient,
  config: WorkerConfig,
  freeBytes: () => Promise<number>,
  log: Logger,
): Promise<void> {
  if ((await freeBytes()) >= config.capacityManagement.diskspaceThreshold) return;
  const instances = CacheInstances.of(docker);
  const volumes = await docker.listByLabel('volume', [
    `${LABEL.role}=cache`,
    `${LABEL.workerId}=${config.workerId}`,
  ]);
  const removed: string[] = [];
  for (const { id } of volumes) {
    if (instances.isHeld(id)) continue;
    await instances.purgeWhenFree(id).then(
      () => removed.push(id),
      (err: unknown) => log.warn({ err: String(err), volume: id }, 'removing a cache volume failed'),
    );
  }
  if (removed.length > 0)
    log.warn({ volumes: removed }, 'the disk is still short of space after the image gc: caches removed');
}
