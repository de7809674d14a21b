/**
 * @module app
 * `createApp(deps)`: the proxy's express app. `/__health`, `/credentials`, `/bewit`, and every
 * other request-target is mapped (routing.ts) and forwarded signed (forward.ts). Never listens.
 */
import express from 'express';
import type { Express, RequestHandler } from 'express';
import type { Logger } from 'pino';
import { bewitRoute } from './bewit-route.js';
import { credentialsRoute } from './credentials-route.js';
import type { CredentialStore } from './credentials.js';
import { errorHandler, HttpError } from './errors.js';
import { DEFAULT_RETRY, DEFAULT_UPSTREAM_TIMEOUT_MS, forward } from './forward.js';
import type { RetryOptions } from './forward.js';
import { proxyHeaders, setHeaders } from './proxy-headers.js';
import type { ProxyIdentity } from './proxy-headers.js';
import { mapRequest } from './routing.js';
import { VERSION } from './version.js';

export interface ProxyDeps {
  rootUrl: string;
  credentials: CredentialStore;
  /** The task's scopes; `undefined` = no restriction (all of the credentials' scopes). */
  authorizedScopes: readonly string[] | undefined;
  /** The per-run secret `PUT /credentials` must present; undefined disables updates (403). */
  credentialsSecret: string | undefined;
  logger: Logger;
  retry?: RetryOptions;
  /** Idle timeout of upstream connections in ms (default 120 s; 0 = none): then 504. */
  upstreamTimeoutMs?: number;
  identity?: ProxyIdentity;
}

export const DEFAULT_IDENTITY: ProxyIdentity = { version: VERSION, revision: 'unknown' };

/** Removes a bewit's value from a URL before it is logged. */
function loggable(url: string): string {
  return url.replace(/([?&]bewit=)[^&#]*/g, '$1<redacted>');
}

export function createApp(deps: ProxyDeps): Express {
  const app = express();
  const identity = deps.identity ?? DEFAULT_IDENTITY;
  const retry = deps.retry ?? DEFAULT_RETRY;
  const upstreamTimeoutMs = deps.upstreamTimeoutMs ?? DEFAULT_UPSTREAM_TIMEOUT_MS;
  app.disable('x-powered-by');
  app.set('etag', false);

  app.use((_req, res, next) => {
    setHeaders(res, proxyHeaders(identity, deps.credentials.current, deps.authorizedScopes));
    next();
  });
  app.get('/__health', (_req, res) => {
    res.json({ status: 'ok', version: identity.version, rootUrl: deps.rootUrl });
  });
  app.use(credentialsRoute(deps.credentials, deps.credentialsSecret, deps.logger));
  app.use(bewitRoute(deps.credentials, deps.authorizedScopes));

  const proxied: RequestHandler = async (req, res) => {
    const started = performance.now();
    const route = mapRequest(req.originalUrl, deps.rootUrl);
    if (route.kind === 'invalid') throw new HttpError(404, route.reason);
    if (route.kind === 'refused') throw new HttpError(400, route.reason);
    const { target } = route;
    const creds = deps.credentials.current;
    const responseHeaders = {
      ...proxyHeaders(identity, creds, deps.authorizedScopes),
      'x-taskcluster-endpoint': target.href,
    };
    res.setHeader('x-taskcluster-endpoint', target.href);
    const result = await forward({
      req,
      res,
      target,
      creds,
      authorizedScopes: deps.authorizedScopes,
      responseHeaders,
      retry,
      upstreamTimeoutMs,
    });
    deps.logger.info(
      {
        method: req.method,
        target: loggable(target.href),
        status: result.status,
        ms: Math.round(performance.now() - started),
        attempts: result.attempts,
        ...(result.error ? { error: result.error } : {}),
      },
      'proxied',
    );
  };
  app.use(proxied);
  app.use(errorHandler(deps.logger));
  return app;
}
