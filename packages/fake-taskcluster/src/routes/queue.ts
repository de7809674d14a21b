/**
 * @module routes/queue
 * The queue's task endpoints: ping, task, status, createTask, cancelTask. The worker interface is
 * in `routes/worker.ts`, artifacts in `routes/artifacts.ts` and `routes/artifact-download.ts`.
 */
import { Router } from 'express';
import { jsonBody } from '../auth/json-body.js';
import { DEFERRED, authorize } from '../auth/require-scopes.js';
import { HttpError } from '../errors.js';
import { SLUGID } from '../ids.js';
import { createTaskScopes, patchDates, withQueueIds } from '../queue/create-task.js';
import { createTaskRequest } from '../schemas/queue.js';
import { param, validBody, validParams } from '../validation.js';
import type { RouteContext } from './context.js';

const TASK_ID = validParams({ taskId: SLUGID });

export function queueRoutes({ endpoint, tasks, queue, now }: RouteContext): Router {
  const router = Router();
  router.get('/ping', endpoint('ping', null), (_req, res) => {
    res.json({ alive: true, uptime: process.uptime() });
  });

  router.get(
    '/task/:taskId',
    endpoint('task', (req) => `queue:get-task:${param(req, 'taskId')}`),
    (req, res) => {
      const taskId = param(req, 'taskId');
      const task = queue.get(taskId)?.def ?? tasks.get(taskId);
      if (!task)
        throw new HttpError(
          404,
          `\`${taskId}\` does not correspond to a task that exists.`,
          'ResourceNotFound',
        );
      res.json(task);
    },
  );

  router.get(
    '/task/:taskId/status',
    endpoint('status', (req) => `queue:status:${param(req, 'taskId')}`),
    TASK_ID,
    (req, res) => {
      const taskId = param(req, 'taskId');
      queue.sweep();
      const status = queue.statusOf(taskId);
      if (!status)
        throw new HttpError(
          404,
          `\`${taskId}\` does not correspond to a task that exists.`,
          'ResourceNotFound',
        );
      res.json({ status });
    },
  );

  router.put(
    '/task/:taskId',
    endpoint('createTask', DEFERRED),
    TASK_ID,
    jsonBody(),
    validBody(createTaskRequest),
    (req, res) => {
      const taskId = param(req, 'taskId');
      const def = withQueueIds(req.body as Record<string, unknown>);
      authorize(res, createTaskScopes(def));
      const status = queue.create(taskId, patchDates(taskId, def, now()));
      res.json({ status });
    },
  );

  router.post('/task/:taskId/cancel', endpoint('cancelTask', DEFERRED), TASK_ID, (req, res) => {
    const taskId = param(req, 'taskId');
    const task = queue.get(taskId);
    if (!task)
      throw new HttpError(
        404,
        `Task \`${taskId}\` not found. Are you sure it was created?`,
        'ResourceNotFound',
      );
    const { schedulerId, taskGroupId, projectId } = task.def;
    authorize(res, {
      AnyOf: [
        `queue:cancel-task:${schedulerId}/${taskGroupId}/${taskId}`,
        `queue:cancel-task-in-project:${projectId}`,
        { AllOf: ['queue:cancel-task', `assume:scheduler-id:${schedulerId}/${taskGroupId}`] },
      ],
    });
    res.json({ status: queue.cancel(taskId) });
  });

  return router;
}
