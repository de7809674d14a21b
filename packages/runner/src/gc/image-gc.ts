/**
 * @module gc/image-gc
 * The image garbage collector: removes images this worker pulled or loaded (the ImageUsage record)
 * when unused for `garbageCollection.imageExpirationSeconds`, and, while the engine's data root has
 * less free space than `capacityManagement.diskspaceThreshold`, the least recently used ones until
 * it has enough. Never an image a container uses (running or not), never a sidecar image, never
 * an image the worker did not record (the operator's). Dangling images are pruned after a removal.
 * `dryRun` plans the same and removes nothing.
 */
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { WorkerConfig } from '../config.js';
import type { EngineImage, ImageEngine } from '../docker/image-engine.js';
import type { ImageUsage } from '../images/image-usage.js';

export type GcConfig = Pick<
  WorkerConfig,
  'garbageCollection' | 'capacityManagement' | 'images' | 'balrog' | 'testdroid'
>;

export type GcReason = 'expired' | 'disk-pressure';

export interface GcRemoval {
  id: string;
  ref: string;
  /** The image's size as the engine reports it (layers shared with other images included). */
  size: number;
  reason: GcReason;
}

export interface GcSkip {
  id: string;
  ref: string;
  why: 'in-use' | 'sidecar' | 'conflict' | 'error';
}

export interface GcResult {
  dryRun: boolean;
  /** Removed (or, in a dry run, would be removed), in the order done. */
  removed: GcRemoval[];
  /** Sum of the removed images' sizes. */
  bytes: number;
  /** Candidates kept (in use, a sidecar's, or the engine refused). */
  skipped: GcSkip[];
  /** What pruning dangling images freed afterwards (not in a dry run). */
  pruned: { removed: number; bytes: number };
  /** Free bytes of the data root before, when known. */
  freeBefore?: number;
}

export interface GcDeps {
  engine: ImageEngine;
  usage: ImageUsage;
  clock: Pick<Clock, 'now'>;
  config: GcConfig;
  /** Free bytes of the engine's data root now. */
  freeBytes: () => Promise<number>;
  dryRun?: boolean;
  log: Logger;
}

/** `name` as the engine lists it in RepoTags: no `docker.io/library/` prefix, `:latest` when untagged. */
export function normalizeRef(name: string): string {
  let ref = name.replace(/^(docker\.io|index\.docker\.io|registry-1\.docker\.io)\//, '');
  ref = ref.replace(/^library\//, '');
  const last = ref.slice(ref.lastIndexOf('/') + 1);
  return last.includes(':') || last.includes('@') ? ref : `${ref}:latest`;
}

/** Ids of the sidecar images the config names (those present on the engine). */
export function sidecarIds(config: GcConfig, images: EngineImage[]): Set<string> {
  const names = new Set(
    [config.images.taskclusterProxy, config.balrog.image, config.testdroid.image].map(normalizeRef),
  );
  const ids = new Set<string>();
  for (const image of images) if (image.repoTags.some((t) => names.has(normalizeRef(t)))) ids.add(image.id);
  return ids;
}

const statusOf = (err: unknown): number | undefined => (err as { statusCode?: number }).statusCode;

export async function collectImages(deps: GcDeps): Promise<GcResult> {
  const { engine, usage, config, log } = deps;
  const dryRun = deps.dryRun === true;
  const [images, inUse] = await Promise.all([engine.list(), engine.inUse()]);
  const byId = new Map(images.map((i) => [i.id, i]));
  const sidecars = sidecarIds(config, images);
  const threshold = config.capacityManagement.diskspaceThreshold;
  const expiry = config.garbageCollection.imageExpirationSeconds * 1000;
  const now = deps.clock.now();
  const measure = (): Promise<number | undefined> =>
    threshold > 0
      ? deps.freeBytes().catch((err: unknown) => {
          log.debug({ err: String(err) }, 'image gc: free disk space unknown');
          return undefined;
        })
      : Promise.resolve(undefined);
  const freeBefore = await measure();
  let free = freeBefore;
  const result: GcResult = { dryRun, removed: [], bytes: 0, skipped: [], pruned: { removed: 0, bytes: 0 } };
  if (freeBefore !== undefined) result.freeBefore = freeBefore;

  for (const use of usage.list()) {
    const image = byId.get(use.id);
    if (!image) {
      // Removed by someone else (docker rmi, docker image prune): nothing to do but forget it.
      log.debug({ image: use.id, ref: use.ref }, 'image gc: recorded image is gone; forgetting it');
      if (!dryRun) await usage.forget(use.id);
      continue;
    }
    const pressure = free !== undefined && free < threshold;
    const reason: GcReason | undefined =
      expiry > 0 && now - use.lastUsed >= expiry ? 'expired' : pressure ? 'disk-pressure' : undefined;
    if (!reason) continue;
    const entry = { id: use.id, ref: use.ref };
    if (inUse.has(use.id) || sidecars.has(use.id)) {
      result.skipped.push({ ...entry, why: inUse.has(use.id) ? 'in-use' : 'sidecar' });
      continue;
    }
    if (!dryRun) {
      try {
        await engine.remove(use.id);
      } catch (err) {
        const why = statusOf(err) === 409 ? 'conflict' : 'error';
        log.warn(
          { image: use.id, ref: use.ref, err: String(err) },
          `image gc: cannot remove the image (${why})`,
        );
        result.skipped.push({ ...entry, why });
        continue;
      }
      await usage.forget(use.id);
      log.info({ image: use.id, ref: use.ref, size: image.size, reason }, 'image gc: removed');
    }
    result.removed.push({ ...entry, size: image.size, reason });
    result.bytes += image.size;
    // A dry run can only estimate; a real removal is measured (layers may be shared).
    if (free !== undefined) free = dryRun ? free + image.size : ((await measure()) ?? free + image.size);
  }

  if (!dryRun && (result.removed.length > 0 || (free !== undefined && free < threshold))) {
    result.pruned = await engine.pruneDangling().catch((err: unknown) => {
      log.warn({ err: String(err) }, 'image gc: pruning dangling images failed');
      return { removed: 0, bytes: 0 };
    });
  }
  return result;
}
