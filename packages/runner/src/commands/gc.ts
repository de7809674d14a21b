/**
 * @module commands/gc
 * `docker-worker gc [--config FILE] [--dry-run]`: one image GC pass now (`gc/image-gc.ts`) with
 * the worker config's `garbageCollection` and `capacityManagement` settings over the record in
 * `<workDir>/image-usage.json`. One line per image removed (or, with `--dry-run`, that would be)
 * and per candidate kept, then the total. Exit 0.
 */
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { WorkerConfig } from '../config.js';
import type { DockerClient } from '../docker/docker-client.js';
import { UsageError } from '../errors.js';
import { dataRootFree } from '../gc/free-space.js';
import { collectImages, type GcResult, type GcSkip } from '../gc/image-gc.js';
import { ImageUsage } from '../images/image-usage.js';

export interface GcCommandOptions {
  config: WorkerConfig;
  dryRun: boolean;
  docker: Pick<DockerClient, 'ping' | 'dataRoot' | 'imageEngine'>;
  clock: Pick<Clock, 'now'>;
  log: Logger;
  /** Free bytes of a file system (default: statfs). */
  freeBytes?: (path: string) => Promise<number>;
}

export const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
const shortId = (id: string): string => id.replace(/^sha256:/, '').slice(0, 12);

const KEPT: Record<GcSkip['why'], string> = {
  'in-use': 'a container uses it',
  sidecar: "a sidecar image of the worker's config",
  conflict: 'the engine refused: in use or has dependent images',
  error: 'the engine failed to remove it (see the log)',
};

export function gcLines(result: GcResult, usageFile: string): string[] {
  const lines = result.removed.map(
    (r) =>
      `${result.dryRun ? 'would remove' : 'removed'} ${r.ref} ${shortId(r.id)} ${mib(r.size)} (${r.reason})`,
  );
  for (const s of result.skipped) lines.push(`kept ${s.ref} ${shortId(s.id)}: ${KEPT[s.why]}`);
  if (result.removed.length === 0 && result.skipped.length === 0)
    lines.push(`nothing to remove (the images this worker pulled or loaded are listed in ${usageFile})`);
  const pruned =
    result.pruned.removed > 0
      ? `, and ${mib(result.pruned.bytes)} of ${result.pruned.removed} dangling images pruned`
      : '';
  lines.push(`${result.dryRun ? 'would free' : 'freed'} ${mib(result.bytes)}${pruned}`);
  return lines;
}

export async function gcCommand(opts: GcCommandOptions, write: (line: string) => void): Promise<number> {
  const { config, docker } = opts;
  try {
    await docker.ping();
  } catch (err) {
    throw new UsageError(
      `cannot reach the Docker engine (${(err as Error).message}); start it or set DOCKER_HOST`,
    );
  }
  const usage = await ImageUsage.open(config.workDir);
  const result = await collectImages({
    engine: docker.imageEngine,
    usage,
    clock: opts.clock,
    config,
    freeBytes: dataRootFree(docker, opts.freeBytes),
    dryRun: opts.dryRun,
    log: opts.log,
  });
  for (const line of gcLines(result, usage.file)) write(`${line}\n`);
  return 0;
}
