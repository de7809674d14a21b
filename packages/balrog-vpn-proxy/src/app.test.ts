import { once } from 'node:events';
import { createServer, request } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createApp, HEALTH_PATH } from './app.js';
import { staticTunnel } from './tunnel.js';
import { createUpstreamProbe } from './upstream-probe.js';

const log = pino({ level: process.env.TEST_LOG ?? 'silent' });
const servers: Server[] = [];

async function listen(server: Server): Promise<string> {
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** An upstream that echoes what it received as JSON (401 without Authorization, like balrog). */
async function echoUpstream(): Promise<string> {
  return listen(
    createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const seen: Seen = {
          method: req.method ?? '',
          url: req.url ?? '',
          headers: req.headers,
          body: Buffer.concat(chunks).toString(),
        };
        res.writeHead(req.headers.authorization ? 200 : 401, { 'content-type': 'application/json' });
        res.end(JSON.stringify(seen));
      });
    }),
  );
}

/** The URL of a port that was just listened on and closed again: connections are refused. */
async function deadUpstream(): Promise<string> {
  const dead = createServer();
  const url = await listen(dead);
  servers.pop();
  await new Promise((r) => dead.close(r));
  return url;
}

async function proxyFor(upstream: string, opts: { up?: boolean; timeoutMs?: number } = {}) {
  const target = new URL(upstream);
  const tunnel = staticTunnel({
    up: opts.up ?? true,
    state: opts.up === false ? 'reconnecting (connection-reset)' : 'connected',
  });
  const app = createApp({
    target,
    tunnel,
    probeUpstream: createUpstreamProbe(target, 1000),
    log,
    timeoutMs: opts.timeoutMs,
  });
  return { url: await listen(createServer(app)), tunnel };
}

afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

describe('forwarding', () => {
  it('forwards method, path, query and a streamed body, with the upstream Host and X-Forwarded headers', async () => {
    const upstream = await echoUpstream();
    const { url } = await proxyFor(upstream);
    const body = 'a'.repeat(100_000);
    const seen = await new Promise<Seen>((resolve, reject) => {
      const req = request(
        `${url}/api/rules?x=1`,
        {
          method: 'PUT',
          headers: { authorization: 'Bearer s3cret', host: 'balrog', 'content-type': 'text/plain' },
        },
        (res) => {
          expect(res.statusCode).toBe(200);
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve(JSON.parse(Buffer.concat(chunks).toString()) as Seen));
        },
      );
      req.on('error', reject);
      // Written in pieces: the forwarder streams, it does not need the whole body first.
      for (let i = 0; i < body.length; i += 10_000) req.write(body.slice(i, i + 10_000));
      req.end();
    });
    expect(seen.method).toBe('PUT');
    expect(seen.url).toBe('/api/rules?x=1');
    expect(seen.body).toHaveLength(100_000);
    expect(seen.headers.host).toBe(new URL(upstream).host);
    expect(seen.headers.authorization).toBe('Bearer s3cret');
    expect(seen.headers['x-forwarded-host']).toBe('balrog');
    expect(seen.headers['x-forwarded-proto']).toBe('http');
    expect(seen.headers['x-forwarded-for']).toMatch(/127\.0\.0\.1/);
    expect(seen.headers['x-real-ip']).toBe('127.0.0.1');
  });

  it('passes the upstream status through (401 without credentials)', async () => {
    const { url } = await proxyFor(await echoUpstream());
    const res = await fetch(`${url}/api/rules`);
    expect(res.status).toBe(401);
    expect(((await res.json()) as Seen).url).toBe('/api/rules');
  });

  it('prefixes the path of PROXIED_SERVER', async () => {
    const { url } = await proxyFor(`${await echoUpstream()}/base`);
    const res = await fetch(`${url}/api/x`, { headers: { authorization: 'x' } });
    expect(((await res.json()) as Seen).url).toBe('/base/api/x');
  });

  it('answers 503 with one line when the tunnel is down, without contacting the upstream', async () => {
    let contacted = false;
    const upstream = await listen(createServer((_q, r) => ((contacted = true), r.end())));
    const { url } = await proxyFor(upstream, { up: false });
    const res = await fetch(`${url}/api/rules`);
    expect(res.status).toBe(503);
    expect(await res.text()).toBe(
      `balrog-vpn-proxy: the VPN tunnel is down (reconnecting (connection-reset)); cannot reach ${upstream}\n`,
    );
    expect(contacted).toBe(false);
  });

  it('answers 502 with the reason when the upstream refuses the connection', async () => {
    const upstream = await deadUpstream();
    const { url } = await proxyFor(upstream);
    const res = await fetch(`${url}/`);
    expect(res.status).toBe(502);
    expect(await res.text()).toBe(
      `balrog-vpn-proxy: cannot reach ${upstream} through the VPN: ECONNREFUSED\n`,
    );
  });

  it('answers 504 when the upstream does not answer within the timeout', async () => {
    const upstream = await listen(createServer(() => undefined));
    const { url } = await proxyFor(upstream, { timeoutMs: 200 });
    const res = await fetch(`${url}/slow`);
    expect(res.status).toBe(504);
    expect(await res.text()).toMatch(
      /^balrog-vpn-proxy: no answer from http:\/\/127\.0\.0\.1:\d+ within 0 s\n$/,
    );
  });
});

describe(`GET ${HEALTH_PATH}`, () => {
  it('is 200 when the tunnel is up and the upstream answers (any status)', async () => {
    const upstream = await echoUpstream();
    const { url } = await proxyFor(upstream);
    const res = await fetch(`${url}${HEALTH_PATH}`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      ok: true,
      tunnel: { up: true, state: 'connected' },
      upstream: { url: upstream, reachable: true, status: 401 },
    });
  });

  it('is 503 when the tunnel is down', async () => {
    const { url, tunnel } = await proxyFor(await echoUpstream());
    tunnel.set({ up: false, state: 'openvpn exited with code 1' });
    const res = await fetch(`${url}${HEALTH_PATH}`);
    expect(res.status).toBe(503);
    const body = (await res.json()) as { ok: boolean; tunnel: unknown; upstream: { reachable: boolean } };
    expect(body.ok).toBe(false);
    expect(body.tunnel).toEqual({ up: false, state: 'openvpn exited with code 1' });
    expect(body.upstream.reachable).toBe(false);
  });

  it('is 503 with the error when the upstream cannot be reached', async () => {
    const upstream = await deadUpstream();
    const { url } = await proxyFor(upstream);
    const res = await fetch(`${url}${HEALTH_PATH}`);
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({
      ok: false,
      tunnel: { up: true, state: 'connected' },
      upstream: { url: upstream, reachable: false, error: 'ECONNREFUSED' },
    });
  });
});
