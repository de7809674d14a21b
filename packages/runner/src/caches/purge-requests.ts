/**
 * @module caches/purge-requests
 * The purge-cache service's requests ("purge caches" in Treeherder, `taskcluster purge-cache`), as
 * docker-worker honoured them: before a claim, at most once per garbageCollection.intervalSeconds,
 * the worker asks `purgeRequests(<taskQueueId>, {since})` with its own credentials and removes its
 * instances of each named cache made before the request's `before`; an instance a running task
 * holds goes when that task's lease ends (`instances.ts`). `since` moves to five minutes before
 * each answered ask (clock skew), as docker-worker's did; an ask that fails is warned about and
 * tried again at the next interval, and never stops claims.
 */
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { WorkerConfig } from '../config.js';
import type { DockerClient } from '../docker/docker-client.js';
import { LABEL } from '../docker/labels.js';
import type { Credentials } from '../features/feature.js';
import type { PurgeRequest, TaskclusterClients } from '../worker/taskcluster.js';
import { CacheInstances, isInstanceOf } from './instances.js';

const SKEW_MS = 5 * 60_000;

export interface PurgeDeps {
  docker: DockerClient;
  clients: TaskclusterClients;
  config: WorkerConfig;
  clock: Clock;
  log: Logger;
}

/** The poll to run before each claim, or undefined when the clients have no purge-cache service. */
export function cachePurgePoll(deps: PurgeDeps): ((credentials: Credentials) => Promise<void>) | undefined {
  const { clients, config, clock, log } = deps;
  const ask = clients.purgeRequests?.bind(clients);
  if (!ask) return undefined;
  let since: string | undefined;
  let next = 0;
  return async (credentials) => {
    const now = clock.now();
    if (now < next) return;
    next = now + config.garbageCollection.intervalSeconds * 1000;
    let requests: PurgeRequest[];
    try {
      requests = await ask(credentials, config.taskQueueId, since);
    } catch (err) {
      log.warn({ err: String(err) }, 'the purge-cache service did not answer: no caches purged this time');
      return;
    }
    since = new Date(now - SKEW_MS).toJSON();
    for (const request of requests) await purgeCache(deps, request);
  };
}

/** Removes (or marks, when held) this worker's instances of the cache made before the request. */
async function purgeCache({ docker, config, log }: PurgeDeps, request: PurgeRequest): Promise<void> {
  const before = Date.parse(request.before);
  const instances = CacheInstances.of(docker);
  const volumes = await docker
    .listByLabel('volume', [`${LABEL.role}=cache`, `${LABEL.cache}=${request.cacheName}`])
    .catch((err: unknown) => {
      log.warn({ err: String(err), cacheName: request.cacheName }, 'listing the cache volumes failed');
      return [];
    });
  for (const v of volumes) {
    if (!isInstanceOf(v.id, config.cacheVolumePrefix, request.cacheName)) continue; // another worker's prefix
    if (!(Date.parse(v.created ?? '') < before)) continue; // made after the request (or unknown)
    try {
      const done = await instances.purgeWhenFree(v.id);
      log.info({ cacheName: request.cacheName, volume: v.id, before: request.before, done }, 'cache purged');
    } catch (err) {
      log.warn({ err: String(err), volume: v.id }, 'purging a cache volume failed');
    }
  }
}
