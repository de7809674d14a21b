/**
 * @module routes/auth
 * The auth service endpoints the worker and proxy use: currentScopes, expandScopes.
 */
import { Router } from 'express';
import { jsonBody } from '../auth/json-body.js';
import { HttpError } from '../errors.js';
import { allValidScopes } from '../auth/scopes.js';
import { authOf } from '../auth/require-scopes.js';
import type { RouteContext } from './context.js';

export function authRoutes({ endpoint, store }: RouteContext): Router {
  const router = Router();
  router.get('/ping', endpoint('ping', null), (_req, res) => {
    res.json({ alive: true, uptime: process.uptime() });
  });
  router.get('/scopes/current', endpoint('currentScopes', 'auth:current-scopes'), (_req, res) => {
    res.json({ scopes: authOf(res).scopes });
  });
  router.post('/scopes/expand', endpoint('expandScopes', 'auth:expand-scopes'), jsonBody(), (req, res) => {
    const scopes: unknown = (req.body as { scopes?: unknown } | undefined)?.scopes;
    if (!allValidScopes(scopes))
      throw new HttpError(400, 'body must be {"scopes": [<valid scope>...]}', 'InputValidationError');
    res.json({ scopes: store.expand(scopes) });
  });
  return router;
}
