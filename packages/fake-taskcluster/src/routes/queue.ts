/**
 * @module routes/queue
 * The queue service. Part 1 has only `ping`; claimWork, reclaimTask, resolution and
 * createArtifact come in a later part, as further routes on this router.
 */
import { Router } from 'express';
import type { RouteContext } from './context.js';

export function queueRoutes({ endpoint }: RouteContext): Router {
  const router = Router();
  router.get('/ping', endpoint('ping', null), (_req, res) => {
    res.json({ alive: true, uptime: process.uptime() });
  });
  return router;
}
