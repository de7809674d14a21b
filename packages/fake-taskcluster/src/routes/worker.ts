/**
 * @module routes/worker
 * The queue's worker interface: claimWork (a long poll), reclaimTask, reportCompleted,
 * reportFailed, reportException (PROTOCOLS.md §3.1–3.3).
 */
import { Router } from 'express';
import type { Request, Response } from 'express';
import { jsonBody } from '../auth/json-body.js';
import { DEFERRED, authorize } from '../auth/require-scopes.js';
import { RUN_ID, SLUGID, TASK_QUEUE_ID } from '../ids.js';
import type { Claim } from '../queue/task-queue.js';
import { claimWorkRequest, taskExceptionRequest } from '../schemas/queue.js';
import { param, validBody, validParams } from '../validation.js';
import type { RouteContext } from './context.js';

const RUN = validParams({ taskId: SLUGID, runId: RUN_ID });
const runScope = (verb: string) => (req: Request) =>
  `queue:${verb}:${param(req, 'taskId')}/${param(req, 'runId')}`;

/** An AbortSignal that fires when the client goes away before we answered. */
function clientGone(req: Request, res: Response): AbortSignal {
  const controller = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) controller.abort();
  });
  if (req.socket.destroyed) controller.abort();
  return controller.signal;
}

export function workerRoutes({ endpoint, queue, claimWorkWaitMs }: RouteContext): Router {
  const router = Router();

  router.post(
    '/claim-work/{*taskQueueId}',
    endpoint('claimWork', DEFERRED),
    validParams({ taskQueueId: TASK_QUEUE_ID }),
    jsonBody(),
    validBody(claimWorkRequest),
    async (req, res) => {
      const taskQueueId = param(req, 'taskQueueId');
      const { workerGroup, workerId, tasks } = req.body as {
        workerGroup: string;
        workerId: string;
        tasks: number;
      };
      authorize(res, {
        AllOf: [`queue:claim-work:${taskQueueId}`, `queue:worker-id:${workerGroup}/${workerId}`],
      });
      const gone = clientGone(req, res);
      const until = Date.now() + claimWorkWaitMs;
      let claims: Claim[] = [];
      while (!gone.aborted) {
        claims = queue.claim(taskQueueId, workerGroup, workerId, tasks);
        const left = until - Date.now();
        if (claims.length > 0 || left <= 0) break;
        await queue.nextPending(left, gone);
      }
      if (gone.aborted) return; // nothing claimed for a client that is not there
      res.json({ tasks: claims });
    },
  );

  router.post(
    '/task/:taskId/runs/:runId/reclaim',
    endpoint('reclaimTask', runScope('reclaim-task')),
    RUN,
    (req, res) => {
      res.json(queue.reclaim(param(req, 'taskId'), Number(param(req, 'runId'))));
    },
  );

  for (const target of ['completed', 'failed'] as const) {
    const name = target === 'completed' ? 'reportCompleted' : 'reportFailed';
    router.post(
      `/task/:taskId/runs/:runId/${target}`,
      endpoint(name, runScope('resolve-task')),
      RUN,
      jsonBody(),
      (req, res) => {
        const body = req.body as { success?: unknown } | undefined;
        const resolved = target === 'completed' && body?.success === false ? 'failed' : target;
        res.json({ status: queue.resolve(param(req, 'taskId'), Number(param(req, 'runId')), resolved) });
      },
    );
  }

  router.post(
    '/task/:taskId/runs/:runId/exception',
    endpoint('reportException', runScope('resolve-task')),
    RUN,
    jsonBody(),
    validBody(taskExceptionRequest),
    (req, res) => {
      const { reason } = req.body as { reason: string };
      res.json({ status: queue.reportException(param(req, 'taskId'), Number(param(req, 'runId')), reason) });
    },
  );

  return router;
}
