/**
 * @module caches/instances
 * The volumes ("instances") of each cache name, as docker-worker kept them: a run leases an
 * instance no other run of this worker holds — the cache's first volume, `<prefix><name>`, when it
 * is free, else another free one, else a new `<prefix><name>--<8 hex>` — so two tasks running at
 * once never share a checkout. The lease ends once the run's containers are removed; an instance
 * marked for purge (onExitStatus.purgeCaches) is removed then and never leased again. Every
 * instance is labelled with its cache's name (that label, not the volume's name, says which cache
 * it belongs to) and outlives runs and processes like any cache volume.
 */
import { randomBytes } from 'node:crypto';
import type { DockerClient } from '../docker/docker-client.js';
import { LABEL } from '../docker/labels.js';

/** The first volume of a cache (the payload check has refused names that are no volume name). */
export const cacheVolumeName = (prefix: string, cache: string): string => `${prefix}${cache}`;

/** Whether `volume` is one of the instances of cache `name` under `prefix`. */
export const isInstanceOf = (volume: string, prefix: string, name: string): boolean =>
  volume === cacheVolumeName(prefix, name) || volume.startsWith(`${cacheVolumeName(prefix, name)}--`);

export class CacheInstances {
  /** Volumes leased now. */
  private readonly held = new Set<string>();
  /** Leased volumes to remove at their release. */
  private readonly purging = new Set<string>();

  private constructor(private readonly docker: DockerClient) {}

  private static readonly byEngine = new WeakMap<DockerClient, CacheInstances>();

  /** The registry of one engine client: every run of a worker shares it. */
  static of(docker: DockerClient): CacheInstances {
    let known = CacheInstances.byEngine.get(docker);
    if (!known) CacheInstances.byEngine.set(docker, (known = new CacheInstances(docker)));
    return known;
  }

  /** Leases a free instance of cache `name` (made when there is none, labelled `labels`); its volume. */
  async lease(prefix: string, name: string, labels: Record<string, string>): Promise<string> {
    const first = cacheVolumeName(prefix, name);
    let volume = first;
    // Reserved before any await, so a concurrent lease of the same cache sees it held.
    if (this.held.has(first)) {
      const listed = await this.docker.listByLabel('volume', [
        `${LABEL.role}=cache`,
        `${LABEL.cache}=${name}`,
      ]);
      const free = listed
        .map((v) => v.id)
        .filter((v) => v !== first && isInstanceOf(v, prefix, name) && !this.held.has(v))
        .sort();
      volume = free[0] ?? `${first}--${randomBytes(4).toString('hex')}`;
    }
    this.held.add(volume);
    try {
      await this.docker.createVolume(volume, labels); // the engine's create keeps an existing volume
      return volume;
    } catch (err) {
      this.held.delete(volume);
      throw err;
    }
  }

  /** Marks a leased instance for removal at its release. */
  purge(volume: string): void {
    if (this.held.has(volume)) this.purging.add(volume);
  }

  /** Ends a lease once no container of the run uses the volume; removes it when marked for purge. */
  async release(volume: string): Promise<void> {
    const purge = this.purging.delete(volume);
    try {
      if (purge) await this.docker.remove({ kind: 'volume', id: volume });
    } finally {
      this.held.delete(volume);
    }
  }

  /**
   * Removes `volume` now when no run holds it (held meanwhile, so no lease takes it), else marks it
   * for removal at its release.
   */
  async purgeWhenFree(volume: string): Promise<'removed' | 'marked'> {
    if (this.held.has(volume)) {
      this.purging.add(volume);
      return 'marked';
    }
    this.held.add(volume);
    try {
      await this.docker.remove({ kind: 'volume', id: volume });
      return 'removed';
    } finally {
      this.held.delete(volume);
    }
  }

  /** Whether `volume` is leased now. */
  isHeld(volume: string): boolean {
    return this.held.has(volume);
  }
}
