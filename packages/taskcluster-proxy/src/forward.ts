/**
 * @module forward
 * Forwards one task request to its Taskcluster target with node:http over keep-alive agents:
 * bodies stream both ways (stream.pipeline, back-pressure kept),
 * a fresh Hawk header per attempt replaces the task's Authorization, redirects are passed back,
 * and idempotent requests without a body are retried with exponential back-off on 5xx or
 * connection errors (PROTOCOLS.md §4.3). An upstream that stays silent (no byte either way) for
 * `upstreamTimeoutMs` is given up on: 504 with one line before the response started, else the
 * connection to the task is cut. A timeout is not retried (it would multiply the wait).
 */
import http from 'node:http';
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import https from 'node:https';
import { pipeline } from 'node:stream/promises';
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
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'te',
  'trailer',
]);
const agents = {
  'http:': new http.Agent({ keepAlive: true }),
  'https:': new https.Agent({ keepAlive: true }),
};

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
function responseHeaders(proxyRes: IncomingMessage, extra: Record<string, string>): string[] {
  const raw = proxyRes.rawHeaders;
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = (raw[i] as string).toLowerCase();
    if (!HOP_BY_HOP.has(name) && !Object.hasOwn(extra, name)) out.push(raw[i] as string, raw[i + 1] as string);
  }
  for (const name in extra) out.push(name, extra[name] as string);
  return out;
}

function relay(proxyRes: IncomingMessage, res: ServerResponse, extra: Record<string, string>): Promise<void> {
  res.writeHead(proxyRes.statusCode ?? 502, proxyRes.statusMessage, responseHeaders(proxyRes, extra));
  // pipe(), not stream.pipeline: pipeline makes an AbortController per call and aborts it when done,
  // and the DOMException each abort builds was ~4 % of the proxy's CPU on small GETs.
  return new Promise<void>((resolve, reject) => {
    proxyRes.once('error', (err) => {
      res.destroy(err);
      reject(err);
    });
    res.once('finish', () => resolve());
    res.once('close', () => {
      if (res.writableFinished) return;
      proxyRes.destroy();
      reject(new Error('the task closed the connection before the response ended'));
    });
    proxyRes.pipe(res);
  });
}

/** The task's request headers for the upstream: hop-by-hop ones dropped, Host and a fresh Authorization set. */
function outgoingHeaders(req: IncomingMessage, target: Target, authorization: string): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(req.headers))
    if (value !== undefined && !HOP_BY_HOP.has(name)) headers[name] = value;
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
  let closed = false;
  let upstream: http.ClientRequest | undefined;
  res.once('close', () => {
    closed = true;
    // The task went away: so does its request to the upstream.
    if (!res.writableFinished) upstream?.destroy();
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
      let timedOut = false;
      const again = (): boolean => {
        if (!retryable || n > f.retry.retries || closed || timedOut) return false;
        setTimeout(() => attempt(n + 1), backoffMs(n, f.retry)).unref();
        return true;
      };
      const proxyReq = (target.protocol === 'https:' ? https : http).request({
        protocol: target.protocol,
        hostname: target.hostname,
        port: target.port,
        method,
        // The raw path and query, exactly as the task sent them ("//" and percent-encoding kept).
        path: target.path + (target.query === undefined ? '' : `?${target.query}`),
        // A fresh signature per attempt; replaces whatever Authorization the task sent.
        headers: outgoingHeaders(
          req,
          target,
          authorizationHeader(target, method, f.creds, f.authorizedScopes),
        ),
        agent: agents[target.protocol],
      });
      upstream = proxyReq;
      if (f.upstreamTimeoutMs > 0) {
        proxyReq.setTimeout(f.upstreamTimeoutMs, () => {
          timedOut = true;
          proxyReq.destroy(
            new Error(`upstream timeout: ${target.host} sent nothing for ${f.upstreamTimeoutMs / 1000} s`),
          );
        });
      }
      proxyReq.once('response', (proxyRes) => {
        const status = proxyRes.statusCode ?? 502;
        if (status >= 500 && again()) {
          proxyRes.resume();
          return;
        }
        relay(proxyRes, res, f.responseHeaders).then(
          () => resolve({ status, attempts: n }),
          (err: Error) => resolve({ status, attempts: n, error: err.message }),
        );
      });
      proxyReq.once('error', (err) => {
        if (again()) return;
        const status = timedOut ? 504 : 500;
        const message = timedOut
          ? `Gateway timeout: ${target.host} sent nothing for ${f.upstreamTimeoutMs / 1000} s (the proxy's --upstream-timeout); try again later`
          : `Failed during proxy request: ${err.message}`;
        if (!res.headersSent && !closed) {
          for (const [name, value] of Object.entries(f.responseHeaders)) res.setHeader(name, value);
          res.writeHead(status, { 'content-type': 'text/plain' }).end(`${message}\n`);
        } else {
          res.destroy();
        }
        resolve({ status, attempts: n, error: timedOut ? 'upstream timeout' : err.message });
      });
      // A body streams through once (never retried); a retryable request has none.
      if (retryable) proxyReq.end();
      else pipeline(req, proxyReq).catch(() => undefined); // a failure surfaces as proxyReq's 'error'
    };
    attempt(1);
  });
}
