/**
 * @module routes/index-service
 * The index service's findTask and insertTask (`index:find-task:<namespace>`,
 * `index:insert-task:<namespace>`, as upstream).
 */
import { Router } from 'express';
import type { Request } from 'express';
import { jsonBody } from '../auth/json-body.js';
import { HttpError } from '../errors.js';
import { NAMESPACE } from '../ids.js';
import { insertTaskRequest } from '../schemas/index-service.js';
import { param, validBody, validParams } from '../validation.js';
import type { RouteContext } from './context.js';

export function indexRoutes({ endpoint, index, now }: RouteContext): Router {
  const router = Router();
  const scope = (verb: string) => (req: Request) => `index:${verb}:${param(req, 'namespace')}`;
  const NS = validParams({ namespace: NAMESPACE });

  router.get('/ping', endpoint('ping', null), (_req, res) => {
    res.json({ alive: true, uptime: process.uptime() });
  });
  router.get('/task/:namespace', endpoint('findTask', scope('find-task')), NS, (req, res) => {
    const entry = index.find(param(req, 'namespace'), now());
    if (!entry) throw new HttpError(404, 'Indexed task not found', 'ResourceNotFound');
    res.json(entry);
  });
  router.put(
    '/task/:namespace',
    endpoint('insertTask', scope('insert-task')),
    NS,
    jsonBody(),
    validBody(insertTaskRequest),
    (req, res) => {
      const body = req.body as {
        taskId: string;
        rank: number;
        data: Record<string, unknown>;
        expires: string;
      };
      res.json(index.insert(param(req, 'namespace'), body));
    },
  );
  return router;
}
