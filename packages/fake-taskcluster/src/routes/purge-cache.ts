/**
 * @module routes/purge-cache
 * The purge-cache service: `purgeCache` (POST, `purge-cache:<workerPoolId>:<cacheName>`, the cache
 * name from the body) and `purgeRequests` (GET `?since=`, `purge-cache:purge-requests::<workerPoolId>`
 * — upstream's scope, double colon included), with upstream's routes, patterns and answers.
 */
import { Router } from 'express';
import type { Request } from 'express';
import { jsonBody } from '../auth/json-body.js';
import { authorize, DEFERRED } from '../auth/require-scopes.js';
import { HttpError } from '../errors.js';
import { purgeCacheRequest } from '../schemas/purge-cache.js';
import { param, validBody, validParams } from '../validation.js';
import type { RouteContext } from './context.js';

/** Upstream's pattern for the worker pool id of these routes. */
const WORKER_POOL_ID = /^[A-Za-z0-9_-]{1,38}\/[A-Za-z0-9_-]{1,38}$/;

export function purgeCacheRoutes({ endpoint, purges, now }: RouteContext): Router {
  const router = Router();
  // `{*workerPoolId}`: one segment with an encoded slash (as taskcluster-client sends it) or two.
  const pool = (req: Request) => param(req, 'workerPoolId');
  const POOL = validParams({ workerPoolId: WORKER_POOL_ID });

  router.get('/ping', endpoint('ping', null), (_req, res) => {
    res.json({ alive: true, uptime: process.uptime() });
  });
  router.post(
    '/purge-cache/{*workerPoolId}',
    endpoint('purgeCache', DEFERRED),
    POOL,
    jsonBody(),
    validBody(purgeCacheRequest),
    (req, res) => {
      const { cacheName } = req.body as { cacheName: string };
      authorize(res, `purge-cache:${pool(req)}:${cacheName}`);
      purges.purge(pool(req), cacheName, now());
      res.json({});
    },
  );
  router.get(
    '/purge-cache/{*workerPoolId}',
    endpoint('purgeRequests', (req) => `purge-cache:purge-requests::${pool(req)}`),
    POOL,
    (req, res) => {
      const since = req.query.since;
      let sinceMs = 0;
      if (since !== undefined) {
        sinceMs = typeof since === 'string' ? Date.parse(since) : NaN;
        if (Number.isNaN(sinceMs))
          throw new HttpError(400, 'Query parameter since: Invalid Date', 'InvalidRequestArguments');
      }
      res.json({ requests: purges.openFor(pool(req), sinceMs, now()) });
    },
  );
  return router;
}
