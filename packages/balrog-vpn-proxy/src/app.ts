/**
 * @module app
 * `createApp(deps)`: the Express app of the balrog VPN proxy. It never listens (see `cli.ts`).
 *
 * - `GET /__vpn/health` → `{ ok, tunnel: { up, state }, upstream: { reachable, status?, error? } }`,
 *   200 when the tunnel is up and the upstream answers (any HTTP status), else 503.
 * - everything else is forwarded to the proxied server (see `forwarder.ts`).
 *
 * @example
 * const app = createApp({ target: new URL('https://aus4-admin.mozilla.org'), tunnel, probeUpstream, log });
 * http.createServer(app).listen(80);
 */
import express from 'express';
import type { Express } from 'express';
import type { Logger } from 'pino';
import { errorMiddleware } from './errors.js';
import { createForwarder } from './forwarder.js';
import type { TunnelProbe } from './tunnel.js';
import type { UpstreamProbe } from './upstream-probe.js';

export const HEALTH_PATH = '/__vpn/health';

export interface AppDeps {
  target: URL;
  tunnel: TunnelProbe;
  probeUpstream: UpstreamProbe;
  log: Logger;
  /** Client and upstream socket timeout; default 120 000 ms like the original nginx. */
  timeoutMs?: number;
}

export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  const forwarder = createForwarder({
    target: deps.target,
    timeoutMs: deps.timeoutMs ?? 120_000,
    tunnel: deps.tunnel,
  });

  app.get(HEALTH_PATH, async (_req, res) => {
    const tunnel = deps.tunnel.status();
    const upstream = tunnel.up
      ? await deps.probeUpstream()
      : { reachable: false, error: 'the VPN tunnel is down' };
    const ok = tunnel.up && upstream.reachable;
    res.status(ok ? 200 : 503).json({ ok, tunnel, upstream: { url: deps.target.origin, ...upstream } });
  });
  app.use(forwarder.handler);
  app.use(errorMiddleware(deps.log));
  return app;
}
