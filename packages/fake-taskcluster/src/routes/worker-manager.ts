/**
 * @module routes/worker-manager
 * worker-manager's worker interface for static workers (upstream `api.js`): registerWorker (no
 * scopes: the static secret is the proof), reregisterWorker, removeWorker, shouldWorkerTerminate
 * and listWorkersForWorkerPool. Paths, names, scopes and error codes as upstream.
 */
import { Router } from 'express';
import type { Request } from 'express';
import { jsonBody } from '../auth/json-body.js';
import { DEFERRED, authorize } from '../auth/require-scopes.js';
import { HttpError } from '../errors.js';
import { GENERIC_ID, TASK_QUEUE_ID } from '../ids.js';
import { registerWorkerRequest, reregisterWorkerRequest } from '../schemas/worker-manager.js';
import { param, validBody, validParams } from '../validation.js';
import type { RouteContext } from './context.js';

const WORKER = validParams({ workerPoolId: TASK_QUEUE_ID, workerGroup: GENERIC_ID, workerId: GENERIC_ID });
const STATES = /^(requested|running|stopping|stopped|standalone)$/;
const workerScope = (verb: string) => (req: Request) =>
  `worker-manager:${verb}:${param(req, 'workerPoolId')}/${param(req, 'workerGroup')}/${param(req, 'workerId')}`;
const ids = (req: Request) =>
  [param(req, 'workerPoolId'), param(req, 'workerGroup'), param(req, 'workerId')] as const;

export function workerManagerRoutes({ endpoint, workerManager }: RouteContext): Router {
  const router = Router();

  router.get('/ping', endpoint('ping', null), (_req, res) => {
    res.json({ alive: true, uptime: process.uptime() });
  });

  router.post(
    '/worker/register',
    endpoint('registerWorker', null),
    jsonBody(),
    validBody(registerWorkerRequest),
    (req, res) => {
      res.json(workerManager.register(req.body as Parameters<typeof workerManager.register>[0]));
    },
  );

  router.post(
    '/worker/reregister',
    endpoint('reregisterWorker', DEFERRED),
    jsonBody(),
    validBody(reregisterWorkerRequest),
    (req, res) => {
      const body = req.body as Parameters<typeof workerManager.reregister>[0];
      authorize(
        res,
        `worker-manager:reregister-worker:${body.workerPoolId}/${body.workerGroup}/${body.workerId}`,
      );
      res.json(workerManager.reregister(body));
    },
  );

  router.delete(
    '/workers/:workerPoolId/:workerGroup/:workerId',
    endpoint('removeWorker', workerScope('remove-worker')),
    WORKER,
    (req, res) => {
      workerManager.remove(...ids(req));
      res.json({});
    },
  );

  router.get(
    '/workers/:workerPoolId/:workerGroup/:workerId/should-terminate',
    endpoint('shouldWorkerTerminate', workerScope('should-worker-terminate')),
    WORKER,
    (req, res) => {
      res.json(workerManager.shouldTerminate(...ids(req)));
    },
  );

  router.get(
    '/workers/{*workerPoolId}',
    endpoint(
      'listWorkersForWorkerPool',
      (req) => `worker-manager:list-workers:${param(req, 'workerPoolId')}`,
    ),
    validParams({ workerPoolId: TASK_QUEUE_ID }),
    (req, res) => {
      const state = req.query.state;
      if (state !== undefined && (typeof state !== 'string' || !STATES.test(state)))
        throw new HttpError(
          400,
          `Query parameter 'state' must match regular expression: '${STATES.toString()}'`,
          'InvalidRequestArguments',
        );
      res.json({ workers: workerManager.list(param(req, 'workerPoolId'), state) });
    },
  );

  return router;
}
