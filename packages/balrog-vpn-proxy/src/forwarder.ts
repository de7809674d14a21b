/**
 * @module forwarder
 * Forwards every request to the proxied server (http or https) with http-proxy, streaming bodies
 * both ways. `Host` becomes the upstream's, `X-Forwarded-For/Port/Proto/Host` and `X-Real-IP` are
 * set, and the upstream socket times out after `timeoutMs` (120 s, as the original nginx did).
 * When the tunnel is down it answers 503 at once instead of waiting for a dead route.
 */
import type { IncomingMessage } from 'node:http';
import type { RequestHandler } from 'express';
import httpProxy from 'http-proxy';
import { HttpError } from './errors.js';
import type { TunnelProbe } from './tunnel.js';

export interface ForwarderOptions {
  /** The upstream, e.g. `https://aus4-admin.mozilla.org` (a path, if any, is prefixed). */
  target: URL;
  /** Upstream socket timeout (no answer or no data for this long → 504), in milliseconds. */
  timeoutMs: number;
  tunnel: TunnelProbe;
}

export interface Forwarder {
  handler: RequestHandler;
  close(): void;
}

export function createForwarder(opts: ForwarderOptions): Forwarder {
  const origin = opts.target.origin;
  const proxy = httpProxy.createProxyServer({
    target: opts.target.href,
    changeOrigin: true,
    xfwd: true,
    secure: true,
    proxyTimeout: opts.timeoutMs,
  });
  const timedOut = new WeakSet<IncomingMessage>();
  proxy.on('proxyReq', (proxyReq, req) => {
    // IPv4 clients of a dual-stack listener appear as ::ffff:a.b.c.d; upstreams expect a.b.c.d.
    const ip = req.socket.remoteAddress?.replace(/^::ffff:/, '');
    if (ip) proxyReq.setHeader('X-Real-IP', ip);
    const chain = proxyReq.getHeader('x-forwarded-for');
    if (typeof chain === 'string')
      proxyReq.setHeader('X-Forwarded-For', chain.replace(/::ffff:(\d+\.\d+\.\d+\.\d+)/g, '$1'));
    proxyReq.on('timeout', () => timedOut.add(req));
  });

  const handler: RequestHandler = (req, res, next) => {
    const before = opts.tunnel.status();
    if (!before.up) {
      next(new HttpError(503, `the VPN tunnel is down (${before.state}); cannot reach ${origin}`));
      return;
    }
    proxy.web(req, res, {}, (err: Error & { code?: string }) => {
      const tunnel = opts.tunnel.status();
      if (!tunnel.up) {
        next(
          new HttpError(503, `the VPN tunnel went down (${tunnel.state}); cannot reach ${origin}`, {
            cause: err,
          }),
        );
      } else if (timedOut.has(req)) {
        next(
          new HttpError(504, `no answer from ${origin} within ${Math.round(opts.timeoutMs / 1000)} s`, {
            cause: err,
          }),
        );
      } else {
        next(
          new HttpError(502, `cannot reach ${origin} through the VPN: ${err.code ?? err.message}`, {
            cause: err,
          }),
        );
      }
    });
  };
  return { handler, close: () => proxy.close() };
}
