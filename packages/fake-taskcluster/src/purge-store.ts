/**
 * @module purge-store
 * The purge-cache service's open requests, by worker pool and cache name: a request's `before` is
 * when it was last made (a repeated request moves it on), and it is open for a day, as upstream.
 */
export interface PurgeRequest {
  provisionerId: string;
  workerType: string;
  cacheName: string;
  /** ISO time: caches made before it are to be purged. */
  before: string;
}

const OPEN_MS = 24 * 60 * 60 * 1000;

export class PurgeStore {
  private readonly requests = new Map<string, { workerPoolId: string; cacheName: string; before: number }>();

  /** Records (or renews) a request to purge `cacheName` on `workerPoolId`'s workers at `now`. */
  purge(workerPoolId: string, cacheName: string, now: number): void {
    this.requests.set(JSON.stringify([workerPoolId, cacheName]), { workerPoolId, cacheName, before: now });
  }

  /** The open requests of a pool whose `before` is at or after `since` (ms). */
  openFor(workerPoolId: string, since: number, now: number): PurgeRequest[] {
    const out: PurgeRequest[] = [];
    for (const r of this.requests.values()) {
      if (r.workerPoolId !== workerPoolId || r.before < since || now - r.before > OPEN_MS) continue;
      const [provisionerId = '', workerType = ''] = r.workerPoolId.split('/');
      out.push({ provisionerId, workerType, cacheName: r.cacheName, before: new Date(r.before).toJSON() });
    }
    return out;
  }
}
