/**
 * @module gc/between-tasks
 * Queue mode's image GC: the claim loop calls the hook whenever no task is running; it collects
 * at most once per `garbageCollection.intervalSeconds` (as docker-worker's `interval`, default
 * 60 s: each collection lists the engine's images and containers), once per `pollingIntervalMs`
 * while the last disk check found the data root short of space, never twice at once, and only
 * with `garbageCollection.betweenTasks`. A GC that fails is logged and never stops the worker.
 */
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { WorkerConfig } from '../config.js';
import type { DockerClient } from '../docker/docker-client.js';
import type { ImageUsage } from '../images/image-usage.js';
import { dataRootFree } from './free-space.js';
import { collectImages, type GcResult } from './image-gc.js';

export interface BetweenTasksGcDeps {
  docker: Pick<DockerClient, 'dataRoot' | 'imageEngine'>;
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
      .then((result) => {
        if (result.removed.length > 0 || result.pruned.removed > 0)
          log.info(
            { images: result.removed.length, bytes: result.bytes, pruned: result.pruned.removed },
            'image gc: done',
          );
        deps.onResult?.(result);
      })
      .catch((err: unknown) => log.warn({ err: String(err) }, 'image gc failed; the worker goes on'))
      .finally(() => (current = undefined));
    return current;
  };
}
