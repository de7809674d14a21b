/**
 * @module forward
 * Forwards one task request to its Taskcluster target with undici's dispatcher over keep-alive
 * connections (it cost the proxy process ~30 % less CPU per small GET than node:http's client):
 * bodies stream both ways with back-pressure,
 * a fresh Hawk header per attempt replaces the task's Authorization, redirects are passed back,
 * and idempotent requests without a body are retried with exponential back-off on 5xx or
 * connection errors (PROTOCOLS.md §4.3). An upstream that stays silent for `upstreamTimeoutMs`
 * (no response headers once the request is sent, or no body byte for that long) is given up on:
 * 504 with one line before the response started, else the connection to the task is cut. A
 * timeout is not retried (it would multiply the wait).
 */
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
// Only the Agent: undici's index also loads fetch, WebSocket, caches and cookies (~120 ms of the
// proxy's start, which every proxied task waits for).
import Agent from 'undici/lib/dispatcher/agent.js';
import type { Credentials } from './credentials.js';
import type { Target } from './routing.js';
import { authorizationHeader } from './signing.js';

export interface RetryOptions {
  /** Further attempts after the first (default 5). */
  retries: number;
  /** First back-off delay (default 500 ms); doubles each time, ±50 % jitter. */
  initialDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryOptions = { retries: 5, initialDelayMs: 500, maxDelayMs: 10_000 };

/** Default idle timeout of a connection to the upstream: 2 minutes without a byte either way. */
export const DEFAULT_UPSTREAM_TIMEOUT_MS = 120_000;

export interface ForwardRequest {
  req: IncomingMessage;
  res: ServerResponse;
  target: Target;
  creds: Credentials;
  authorizedScopes: readonly string[] | undefined;
  /** Headers to add to the response (the proxy headers of §4.4). */
  responseHeaders: Record<string, string>;
  retry: RetryOptions;
  /** Idle timeout of the upstream connection in ms (0 = none). */
  upstreamTimeoutMs: number;
}

export interface ForwardResult {
  status: number;
  attempts: number;
  error?: string;
}

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'DELETE']);
/** Headers of one connection (RFC 9110 §7.6.1), never forwarded either way. */
export const HOP_BY_HOP: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'te',
  'trailer',
]);
/** Keep-alive connections to every origin the proxy forwards to (a pool per origin). */
const dispatcher = new Agent({ keepAliveTimeout: 30_000 });
const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

export function backoffMs(attempt: number, retry: RetryOptions, random = Math.random): number {
  const base = Math.min(retry.maxDelayMs, retry.initialDelayMs * 2 ** (attempt - 1));
  return Math.round(base * (0.5 + random()));
}

/**
 * The upstream's response headers without the hop-by-hop ones and those `extra` replaces, then
 * `extra`, as one flat [name, value, ...] list for writeHead (no setHeader per header).
 */
function responseHeaders(headers: IncomingHttpHeaders, extra: Record<string, string>): string[] {
  const out: string[] = [];
  for (const name in headers) {
    if (HOP_BY_HOP.has(name) || Object.hasOwn(extra, name)) continue;
    const value = headers[name];
    if (Array.isArray(value)) for (const v of value) out.push(name, v);
    else if (value !== undefined) out.push(name, value);
  }
  for (const name in extra) out.push(name, extra[name] as string);
  return out;
}

/** The task's request headers for the upstream: hop-by-hop ones dropped, Host and a fresh Authorization set. */
function outgoingHeaders(req: IncomingMessage, target: Target, authorization: string): IncomingHttpHeaders {
  const headers: IncomingHttpHeaders = {};
  const from = req.headers;
  for (const name in from) if (!HOP_BY_HOP.has(name)) headers[name] = from[name];
  headers.host = target.host;
  headers.authorization = authorization;
  return headers;
}

/** Resolves when the response to the task has ended (or the task went away). */
export function forward(f: ForwardRequest): Promise<ForwardResult> {
  const { req, res, target } = f;
  const method = req.method ?? 'GET';
  const retryable = IDEMPOTENT.has(method) && !hasBody(req);
  // Node has already answered "100 Continue" to the task; the upstream must not wait for it.
  delete req.headers.expect;
  const origin = `${target.protocol}//${target.host}`;
  const path = target.path + (target.query === undefined ? '' : `?${target.query}`);
  let closed = false;
  let upstream: Dispatcher.DispatchController | undefined;
  res.once('close', () => {
    closed = true;
    // The task went away: so does its request to the upstream.
    if (!res.writableFinished) upstream?.abort(new Error('the task closed the connection'));
  });

  return new Promise<ForwardResult>((resolve) => {
    let current = 1;
    res.once('close', () =>
      resolve({
        status: res.statusCode,
        attempts: current,
        ...(res.writableFinished ? {} : { error: 'connection closed before the response ended' }),
      }),
    );
    const attempt = (n: number): void => {
      current = n;
      /** This attempt's response goes to the task (false: a 5xx dropped for a retry). */
      let relaying = false;
      /** This attempt has handed over to the next one: nothing more of it reaches the task. */
      let retried = false;
      let status = 0;
      const again = (): boolean => {
        if (!retryable || n > f.retry.retries || closed) return false;
        retried = true;
        setTimeout(() => attempt(n + 1), backoffMs(n, f.retry)).unref();
        return true;
      };
      const handler: Dispatcher.DispatchHandler = {
        onRequestStart(controller) {
          upstream = controller;
          if (closed) controller.abort(new Error('the task closed the connection'));
        },
        onResponseStart(controller, statusCode, headers, statusMessage) {
          if (statusCode < 200) return; // 1xx: informational, the final response follows
          status = statusCode;
          if (statusCode >= 500 && again()) return; // the body is read and dropped
          relaying = true;
          res.writeHead(statusCode, statusMessage ?? '', responseHeaders(headers, f.responseHeaders));
          res.on('drain', () => controller.resume());
        },
        onResponseData(controller, chunk) {
          if (relaying && !res.write(chunk)) controller.pause();
        },
        onResponseEnd() {
          if (!relaying) return;
          res.end();
          res.once('finish', () => resolve({ status, attempts: n }));
        },
        onResponseError(_controller, err) {
          if (retried) return;
          const timedOut = TIMEOUT_CODES.has((err as { code?: string }).code ?? '');
          const error = timedOut ? 'upstream timeout' : err.message;
          if (relaying || res.headersSent) {
            // The response had started: the task sees its connection cut.
            res.destroy();
            return resolve({ status, attempts: n, error });
          }
          if (closed) return resolve({ status: res.statusCode, attempts: n, error: err.message });
          // No final response yet (a 5xx either was relayed or handed over to a retry).
          if (!timedOut && again()) return;
          const code = timedOut ? 504 : 500;
          const message = timedOut
            ? `Gateway timeout: ${target.host} sent nothing for ${f.upstreamTimeoutMs / 1000} s (the proxy's --upstream-timeout); try again later`
            : `Failed during proxy request: ${err.message}`;
          for (const [name, value] of Object.entries(f.responseHeaders)) res.setHeader(name, value);
          res.writeHead(code, { 'content-type': 'text/plain' }).end(`${message}\n`);
          resolve({ status: code, attempts: n, error });
        },
      };
      dispatcher.dispatch(
        {
          origin,
          // The raw path and query, exactly as the task sent them ("//" and percent-encoding kept).
          path,
          method: method as Dispatcher.HttpMethod,
          // A fresh signature per attempt; replaces whatever Authorization the task sent.
          headers: outgoingHeaders(
            req,
            target,
            authorizationHeader(target, method, f.creds, f.authorizedScopes),
          ),
          // A body streams through once (never retried); a retryable request has none.
          body: retryable ? null : req,
          headersTimeout: f.upstreamTimeoutMs,
          bodyTimeout: f.upstreamTimeoutMs,
        },
        handler,
      );
    };
    attempt(1);
  });
}
