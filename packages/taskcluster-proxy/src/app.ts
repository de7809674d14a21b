/**
 * @module app
 * `createHandler(deps)`: the proxy's request listener. `GET /__health` is answered here; the rest
 * of `/__health`, `/credentials` and `/bewit` go to the express app (`control-app.ts`), loaded on
 * the first such request (express and body-parser cost ~110 ms of the proxy's start, which every
 * proxied task waits for); every other request-target is mapped (routing.ts) and forwarded signed
 * (forward.ts) straight from node:http, without express on the hot path (its per-request set-up
 * cost a third of a small GET's time in the proxy). Never listens.
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Credentials, CredentialStore } from './credentials.js';
import { HttpError } from './errors.js';
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

/** Paths the express app answers; everything else is forwarded. */
const OWN_PATHS = new Set(['/__health', '/credentials', '/bewit']);

export function createHandler(deps: ProxyDeps): RequestListener {
  let control: Promise<RequestListener> | undefined;
  const controlApp = (): Promise<RequestListener> =>
    (control ??= import('./control-app.js').then(({ createApp }) => createApp(deps)));
  const identity = deps.identity ?? DEFAULT_IDENTITY;
  const retry = deps.retry ?? DEFAULT_RETRY;
  const upstreamTimeoutMs = deps.upstreamTimeoutMs ?? DEFAULT_UPSTREAM_TIMEOUT_MS;

  // The §4.4 headers of one credentials snapshot (identity and scopes are fixed): made once.
  const headersOf = new WeakMap<Credentials, Record<string, string>>();
  const headersFor = (creds: Credentials): Record<string, string> => {
    let headers = headersOf.get(creds);
    if (!headers) headersOf.set(creds, (headers = proxyHeaders(identity, creds, deps.authorizedScopes)));
    return headers;
  };

  // The request line's keys are fixed here (method, target with any bewit redacted, status, ms,
  // attempts, error) and none is a redacted path, so it skips pino's redaction: same line, and
  // 2 µs instead of 8.5 µs (redaction clones and walks the object on every call).
  const requestLog = deps.logger.child({}, { redact: [] });

  const proxied = async (
    req: IncomingMessage,
    res: ServerResponse,
    creds: Credentials,
    headers: Record<string, string>,
  ): Promise<void> => {
    const started = performance.now();
    const route = mapRequest(req.url ?? '/', deps.rootUrl);
    if (route.kind === 'invalid') throw new HttpError(404, route.reason);
    if (route.kind === 'refused') throw new HttpError(400, route.reason);
    const { target } = route;
    // Sent with the response (forward.ts), not set here: relayed headers then go out in one writeHead.
    const responseHeaders = { ...headers, 'x-taskcluster-endpoint': target.href };
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
    requestLog.info(
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

  return (req, res) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    // As express matches routes: case-insensitive, a trailing slash allowed.
    const path = (q < 0 ? url : url.slice(0, q)).toLowerCase().replace(/(.)\/$/, '$1');
    const creds = deps.credentials.current;
    const headers = headersFor(creds);
    if (path === '/__health' && (req.method === 'GET' || req.method === 'HEAD')) {
      return health(req, res, headers, identity, deps.rootUrl);
    }
    if (OWN_PATHS.has(path)) {
      return void controlApp().then(
        (app) => app(req, res),
        (err: unknown) => failed(err, req, res, deps.logger, headers),
      );
    }
    proxied(req, res, creds, headers).catch((err: unknown) => failed(err, req, res, deps.logger, headers));
  };
}

/** `GET|HEAD /__health` (the sidecar's readiness probe): JSON, with the §4.4 headers. The control app answers with it too. */
export function health(
  req: IncomingMessage,
  res: ServerResponse,
  headers: Record<string, string>,
  identity: ProxyIdentity,
  rootUrl: string,
): void {
  const body = JSON.stringify({ status: 'ok', version: identity.version, rootUrl });
  setHeaders(res, headers);
  res.writeHead(200, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}

/** The express error handler's answer, for the forwarding path: one text/plain line, with the §4.4 headers. */
function failed(
  err: unknown,
  req: IncomingMessage,
  res: ServerResponse,
  logger: Logger,
  headers: Record<string, string>,
): void {
  const known = err instanceof HttpError;
  const status = known ? err.status : 500;
  if (status >= 500) logger.error({ err: (err as Error).message, method: req.method }, 'request failed');
  if (res.headersSent) return void res.destroy();
  setHeaders(res, headers);
  const body = `${known ? err.message : 'internal error in taskcluster-proxy'}\n`;
  if (known) for (const [k, v] of Object.entries(err.headers)) res.setHeader(k, v);
  res.writeHead(status, {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}
