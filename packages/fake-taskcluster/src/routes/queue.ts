/**
 * @module routes/queue
 * The queue service: `ping` and `task(taskId)` (as modern Taskcluster: needs
 * `queue:get-task:<taskId>`). claimWork, reclaimTask, resolution and createArtifact come in a
 * later part, as further routes on this router.
 */
import { Router } from 'express';
import { HttpError } from '../errors.js';
import type { RouteContext } from './context.js';

export function queueRoutes({ endpoint, tasks }: RouteContext): Router {
  const router = Router();
  router.get('/ping', endpoint('ping', null), (_req, res) => {
    res.json({ alive: true, uptime: process.uptime() });
  });
  router.get(
    '/task/:taskId',
    endpoint('task', (req) => `queue:get-task:${String(req.params.taskId)}`),
    (req, res) => {
      const taskId = String(req.params.taskId);
      const task = tasks.get(taskId);
      if (!task) throw new HttpError(404, `Task ${taskId} not found`, 'ResourceNotFound');
      res.json(task);
    },
  );
  return router;
}
