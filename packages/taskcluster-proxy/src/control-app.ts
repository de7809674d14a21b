/**
 * @module control-app
 * The proxy's control routes as an express app: `/__health`, `PUT /credentials` (credentials-route.ts)
 * and `/bewit` (bewit-route.ts), with the §4.4 headers and the one-line error answers. The request
 * listener (app.ts) loads this module on the first control request; it never listens.
 */
import express from 'express';
import type { Express } from 'express';
import { DEFAULT_IDENTITY, health, type ProxyDeps } from './app.js';
import { bewitRoute } from './bewit-route.js';
import { credentialsRoute } from './credentials-route.js';
import { errorHandler } from './errors.js';
import { proxyHeaders, setHeaders } from './proxy-headers.js';

/** The control routes (`/__health`, `/credentials`, `/bewit`) as an express app. */
export function createApp(deps: ProxyDeps): Express {
  const app = express();
  const identity = deps.identity ?? DEFAULT_IDENTITY;
  app.disable('x-powered-by');
  app.set('etag', false);

  app.use((_req, res, next) => {
    setHeaders(res, proxyHeaders(identity, deps.credentials.current, deps.authorizedScopes));
    next();
  });
  // The §4.4 headers are set above.
  app.get('/__health', (req, res) => health(req, res, {}, identity, deps.rootUrl));
  app.use(credentialsRoute(deps.credentials, deps.credentialsSecret, deps.logger));
  app.use(bewitRoute(deps.credentials, deps.authorizedScopes));

  app.use(errorHandler(deps.logger));
  return app;
}
