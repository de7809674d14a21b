// The proxy in-process (port 0) against fake-taskcluster on loopback: scopes, credentials,
// rotation, /credentials, /bewit, URL forms through to the upstream, redirects, retries, logs.
import http from 'node:http';
import net from 'node:net';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import taskcluster from 'taskcluster-client';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { startFakeTaskcluster } from '@docker-worker/fake-taskcluster';
import type { FakeTaskcluster } from '@docker-worker/fake-taskcluster';
import { CredentialStore, parseCredentials } from './credentials.js';
import { startTaskclusterProxy } from './server.js';
import type { RunningProxy } from './server.js';

const WORKER = {
  clientId: 'worker',
  accessToken: 'worker-token-0123456789abcdef',
  scopes: ['auth:current-scopes', 'queue:*', 'secrets:*', 'auth:create-client:task/*'],
};
const NEXT = {
  clientId: 'worker-2',
  accessToken: 'next-token-0123456789abcdef',
  scopes: ['auth:current-scopes', 'queue:*'],
};
const SECRET = 'per-run-secret-0123456789';
const TASK_SCOPES = ['auth:current-scopes', 'queue:get-task:abc'];

let tc: FakeTaskcluster;
let proxy: RunningProxy;
let logs: string[];

async function startProxy(
  o: {
    authorizedScopes?: string[] | null;
    secret?: string | null;
    creds?: object;
    rootUrl?: string;
    upstreamTimeoutMs?: number;
  } = {},
): Promise<RunningProxy> {
  logs = [];
  const logger = pino(
    {},
    new Writable({ write: (chunk: Buffer, _e, done) => (logs.push(chunk.toString()), done()) }),
  );
  proxy = await startTaskclusterProxy({
    rootUrl: o.rootUrl ?? tc.rootUrl,
    credentials: new CredentialStore(parseCredentials(o.creds ?? WORKER)),
    authorizedScopes: o.authorizedScopes === null ? undefined : (o.authorizedScopes ?? TASK_SCOPES),
    credentialsSecret: o.secret === null ? undefined : (o.secret ?? SECRET),
    logger,
    retry: { retries: 3, initialDelayMs: 5, maxDelayMs: 20 },
    ...(o.upstreamTimeoutMs === undefined ? {} : { upstreamTimeoutMs: o.upstreamTimeoutMs }),
  });
  return proxy;
}

beforeEach(async () => {
  tc = await startFakeTaskcluster({ clients: [WORKER, NEXT] });
});
afterEach(async () => {
  vi.restoreAllMocks();
  await proxy?.close();
  await tc.close();
});

async function json(
  path: string,
  init?: RequestInit,
): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
  const res = await fetch(`${proxy.url}${path}`, init);
  const text = await res.text();
  return {
    status: res.status,
    body: text.startsWith('{') ? (JSON.parse(text) as Record<string, unknown>) : { text },
    headers: res.headers,
  };
}

/** A request with the exact request-target given (fetch would normalise dot segments and a bare "?"). */
function raw(
  path: string,
  method = 'GET',
  body?: string,
): Promise<{ status: number; body: Record<string, unknown>; headers: http.IncomingHttpHeaders }> {
  const { hostname, port } = new URL(proxy.url);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: hostname, port, path, method }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          body: JSON.parse(text) as Record<string, unknown>,
          headers: res.headers,
        }),
      );
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Like `raw`, for a text answer (the proxy's own errors). */
function rawText(path: string): Promise<{ status: number; text: string; headers: http.IncomingHttpHeaders }> {
  const { hostname, port } = new URL(proxy.url);
  return new Promise((resolve, reject) => {
    http
      .get({ host: hostname, port, path }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text, headers: res.headers }));
      })
      .on('error', reject);
  });
}

/**
 * Records every outgoing TCP connection this process attempts to a host other than loopback, and
 * fails it at once instead of connecting (no DNS lookup, no packet leaves the machine).
 */
function recordForeignConnections(): string[] {
  const attempts: string[] = [];
  const connect = net.Socket.prototype.connect;
  vi.spyOn(net.Socket.prototype, 'connect').mockImplementation(function (
    this: net.Socket,
    ...args: unknown[]
  ) {
    const first = (Array.isArray(args[0]) ? args[0][0] : args[0]) as net.TcpNetConnectOpts | number;
    const opts = typeof first === 'object' ? first : { port: first, host: args[1] as string | undefined };
    const host = opts.host ?? 'localhost'; // (a Unix socket has no host; `path` is also the HTTP path)
    if (!['127.0.0.1', 'localhost', '::1'].includes(host)) {
      attempts.push(`${host}:${opts.port}`);
      process.nextTick(() => this.destroy(new Error(`test: no connection to ${host}`)));
      return this;
    }
    return connect.apply(this, args as Parameters<typeof connect>);
  });
  return attempts;
}

function putCredentials(body: string, authorization?: string) {
  return fetch(`${proxy.url}/credentials`, {
    method: 'PUT',
    body,
    headers: authorization ? { authorization } : {},
  });
}

describe('scopes', () => {
  it("gives the task exactly its scopes (plus assume:anonymous), never the worker's", async () => {
    await startProxy();
    const { status, body } = await json('/auth/v1/scopes/current');
    expect(status).toBe(200);
    expect(body.scopes).toEqual(['assume:anonymous', ...TASK_SCOPES]);
    expect(tc.requests.at(-1)).toMatchObject({
      clientId: 'worker',
      scheme: 'hawk',
      scopes: ['assume:anonymous', ...TASK_SCOPES],
    });
    expect((await json('/fake/v1/scoped/secrets:get:x')).status).toBe(403);
  });

  it('works through taskcluster-client with rootUrl = the proxy (the TASKCLUSTER_PROXY_URL idiom)', async () => {
    await startProxy();
    const auth = new taskcluster.Auth({ rootUrl: proxy.url, retries: 0 });
    expect((await auth.currentScopes()).scopes).toEqual(['assume:anonymous', ...TASK_SCOPES]);
  });

  it("replaces the task's own Authorization header", async () => {
    await startProxy();
    const { status, body } = await json('/fake/v1/whoami', {
      headers: { authorization: 'Hawk id="intruder", ts="1", nonce="x", mac="y"' },
    });
    expect(status).toBe(200);
    expect(body.clientId).toBe('worker');
  });

  it('with no restriction configured signs with all the credentials hold', async () => {
    await startProxy({ authorizedScopes: null });
    expect((await json('/auth/v1/scopes/current')).body.scopes).toEqual(
      ['assume:anonymous', ...WORKER.scopes].sort(),
    );
  });

  it('signs with temporary credentials made by createTemporaryCredentials and reports them in headers', async () => {
    const temp = taskcluster.createTemporaryCredentials({
      clientId: 'task/abc',
      credentials: WORKER,
      scopes: ['auth:current-scopes', 'queue:get-task:*'],
      expiry: new Date(Date.now() + 3600_000),
    });
    await startProxy({ creds: temp });
    const { status, body, headers } = await json('/auth/v1/scopes/current');
    expect(status).toBe(200);
    expect(body.scopes).toEqual(['assume:anonymous', ...TASK_SCOPES]);
    expect(tc.requests.at(-1)?.clientId).toBe('task/abc');
    expect(headers.get('x-taskcluster-proxy-temp-clientid')).toBe('task/abc');
    expect(JSON.parse(headers.get('x-taskcluster-proxy-temp-scopes') ?? '')).toEqual([
      'auth:current-scopes',
      'queue:get-task:*',
    ]);
    expect(headers.get('x-taskcluster-proxy-perm-clientid')).toBeNull();
  });
});

describe('forwarding', () => {
  it('passes every URL form, percent-encoding and query to the upstream untouched (the MAC proves it)', async () => {
    await startProxy();
    for (const [path, upstream] of [
      ['/fake/v1/echo/y%2fz/a%2F?key=v%20m&x=%2f', '/api/fake/v1/echo/y%2fz/a%2F?key=v%20m&x=%2f'],
      ['/api/fake/v1/echo/a//b?', '/api/fake/v1/echo/a//b?'],
      ['/fake/v1/echo/x/./../y%2e?', '/api/fake/v1/echo/x/./../y%2e?'],
      ['/fake/v1/echo/%E2%9C%93?q=a+b', '/api/fake/v1/echo/%E2%9C%93?q=a+b'],
    ] as const) {
      const { status, body, headers } = await raw(path, 'POST', 'x');
      expect(status, path).toBe(200);
      expect(body).toMatchObject({
        method: 'POST',
        url: upstream,
        clientId: 'worker',
        host: `127.0.0.1:${tc.port}`,
      });
      expect(headers['x-taskcluster-endpoint']).toBe(`${tc.rootUrl}${upstream}`);
    }
  });

  it('streams an upload sent with "Expect: 100-continue" (as curl -T does)', async () => {
    await startProxy();
    const { hostname, port } = new URL(proxy.url);
    const result = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request(
        {
          host: hostname,
          port,
          path: '/fake/v1/blob',
          method: 'PUT',
          headers: { expect: '100-continue', 'content-length': '3' },
        },
        (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on('continue', () => req.end('abc'));
      req.on('error', reject);
    });
    expect(result.status).toBe(200);
    expect(JSON.parse(result.body)).toMatchObject({ bytes: 3, clientId: 'worker' });
  });

  it('adds the §4.4 headers to every response, never the access token', async () => {
    await startProxy();
    for (const res of [
      await fetch(`${proxy.url}/queue/v1/ping`),
      await fetch(`${proxy.url}/bad_name!/x`),
      await putCredentials('{}'),
      await fetch(`${proxy.url}/bewit`, { method: 'POST', body: 'nope' }),
    ]) {
      expect(res.headers.get('x-taskcluster-proxy-version')).toBe('0.1.0');
      expect(res.headers.get('x-taskcluster-proxy-perm-clientid')).toBe('worker');
      expect(JSON.parse(res.headers.get('x-taskcluster-authorized-scopes') ?? '')).toEqual(TASK_SCOPES);
      expect([...res.headers.values()].join(' ')).not.toContain(WORKER.accessToken);
    }
  });

  it('answers 404 with a one-line reason for an unknown service or a bad /api path', async () => {
    await startProxy();
    const bad = await json('/bad_name!/x');
    expect(bad.status).toBe(404);
    expect(bad.body.text).toMatch(/^Unknown taskcluster service: "bad_name!".*\n$/);
    expect((await json('/api/queue')).body.text).toMatch(/^invalid \/api path/);
  });

  it('refuses (400, one line, no connection) a hostname form that is not Taskcluster', async () => {
    const attempts = recordForeignConnections();
    await startProxy();
    const root = new URL(tc.rootUrl).hostname;
    for (const [path, host] of [
      ['/169.254.169.254/latest/meta-data/iam/security-credentials/', '169.254.169.254'],
      ['/[fd00:ec2::254]/latest/meta-data/', '[fd00:ec2::254]'],
      ['/[::1]/api/fake/v1/whoami', '[::1]'],
      ['/evil.example.com/x', 'evil.example.com'],
      [`/evil-${root}.example.com/x`, `evil-${root}.example.com`],
      [`/${root}.evil.com/x`, `${root}.evil.com`],
      [`/${root}@evil.com/x`, `${root}@evil.com`],
      [`/user:pw@${root}/api/fake/v1/whoami`, `user:pw@${root}`],
      [`/${root}:${tc.port}/api/fake/v1/whoami`, `${root}:${tc.port}`],
    ]) {
      const res = await rawText(path as string);
      expect(res.status, path).toBe(400);
      expect(res.text).toBe(
        `host ${JSON.stringify(host)} is not allowed: the proxy forwards only to the root URL's host (${root}) and the Taskcluster services <service>.taskcluster.net; use /<service>/<version>/<path>\n`,
      );
      expect(res.headers['x-taskcluster-endpoint']).toBeUndefined();
    }
    expect(attempts).toEqual([]);
    expect(tc.requests).toEqual([]);
  });

  it('forwards the root URL host form to the root URL, and a legacy service host to it over https', async () => {
    const attempts = recordForeignConnections();
    await startProxy({ authorizedScopes: TASK_SCOPES });
    const root = new URL(tc.rootUrl).hostname;
    const { status, body } = await raw(`/${root}/api/fake/v1/whoami`);
    expect(status).toBe(200);
    expect(body).toMatchObject({ clientId: 'worker' });
    const legacy = await rawText('/queue.taskcluster.net/v1/ping');
    expect(legacy.status).toBe(500); // the recorder fails the connection
    expect(attempts[0]).toBe('queue.taskcluster.net:443');
  });

  it('passes redirects back instead of following them', async () => {
    await startProxy();
    const res = await fetch(
      `${proxy.url}/fake/v1/redirect?to=${encodeURIComponent('http://s3.example/b/o?x=1')}`,
      { redirect: 'manual' },
    );
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('http://s3.example/b/o?x=1');
    expect(tc.requests.filter((r) => r.path.startsWith('/api/fake/v1/redirect'))).toHaveLength(1);
  });

  it('retries an idempotent request without a body on 5xx, with a fresh signature each time', async () => {
    await startProxy();
    const { status, body } = await json('/fake/v1/flaky/get-a?failures=2');
    expect(status).toBe(200);
    expect(body.attempts).toBe(3);
    expect(
      tc.requests
        .filter((r) => r.path.startsWith('/api/fake/v1/flaky/get-a'))
        .map((r) => [r.status, r.clientId]),
    ).toEqual([
      [503, 'worker'],
      [503, 'worker'],
      [200, 'worker'],
    ]);
  });

  it('relays the last 5xx after the bounded retries, and never retries a request with a body', async () => {
    await startProxy();
    expect((await json('/fake/v1/flaky/get-b?failures=50')).status).toBe(503);
    expect(tc.requests.filter((r) => r.path.startsWith('/api/fake/v1/flaky/get-b'))).toHaveLength(4);
    expect((await json('/fake/v1/flaky/put-a?failures=1', { method: 'PUT', body: 'data' })).status).toBe(503);
    expect(tc.requests.filter((r) => r.path.startsWith('/api/fake/v1/flaky/put-a'))).toHaveLength(1);
  });

  it('answers 500 "Failed during proxy request" when the upstream cannot be reached', async () => {
    const closed = await startFakeTaskcluster({ clients: [] });
    await closed.close();
    await startProxy({ rootUrl: closed.rootUrl });
    const { status, body } = await json('/queue/v1/ping');
    expect(status).toBe(500);
    expect(body.text).toMatch(/^Failed during proxy request: .*ECONNREFUSED/);
  });

  it('answers 504 with one line when the upstream sends nothing for upstreamTimeoutMs, and does not retry', async () => {
    await startProxy({ upstreamTimeoutMs: 300 });
    // Data that keeps flowing is not a timeout, however long the whole transfer takes.
    expect((await json('/fake/v1/blob/4194304')).status).toBe(200);
    const { status, body } = await json('/fake/v1/whoami?delayMs=20000');
    expect(status).toBe(504);
    expect(body.text).toMatch(
      new RegExp(`^Gateway timeout: 127\\.0\\.0\\.1:${tc.port} sent nothing for 0\\.3 s[^\\n]*\\n$`),
    );
    const line = logs
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l.msg === 'proxied' && l.status === 504);
    expect(line).toMatchObject({ method: 'GET', attempts: 1, error: 'upstream timeout' });
    // The proxy is still fine afterwards.
    expect((await json('/fake/v1/whoami')).body.clientId).toBe('worker');
  });

  it('logs one JSON line per proxied request with method, target, status and ms, and no secret', async () => {
    await startProxy();
    await json('/queue/v1/ping');
    await putCredentials(JSON.stringify(NEXT), `Bearer ${SECRET}`);
    await json('/auth/v1/scopes/current');
    const proxied = logs
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l.msg === 'proxied');
    expect(proxied).toHaveLength(2);
    expect(proxied[0]).toMatchObject({
      method: 'GET',
      target: `${tc.rootUrl}/api/queue/v1/ping`,
      status: 200,
      ms: expect.any(Number),
    });
    const all = logs.join('');
    for (const secret of [SECRET, WORKER.accessToken, NEXT.accessToken]) expect(all).not.toContain(secret);
  });
});

describe('PUT /credentials', () => {
  it('is refused (403) when the proxy has no secret, and the credentials stay', async () => {
    await startProxy({ secret: null });
    expect((await putCredentials(JSON.stringify(NEXT), `Bearer ${SECRET}`)).status).toBe(403);
    expect((await json('/fake/v1/whoami')).body.clientId).toBe('worker');
  });

  it('is refused (401) without or with a wrong secret, and the credentials stay', async () => {
    await startProxy();
    expect((await putCredentials(JSON.stringify(NEXT))).status).toBe(401);
    expect((await putCredentials(JSON.stringify(NEXT), `Bearer ${SECRET}x`)).status).toBe(401);
    expect((await putCredentials(JSON.stringify(NEXT), SECRET)).status).toBe(401);
    expect((await json('/fake/v1/whoami')).body.clientId).toBe('worker');
  });

  it('answers 400 to bad JSON or bad credentials, 405 to other methods', async () => {
    await startProxy();
    expect((await putCredentials('{nope', `Bearer ${SECRET}`)).status).toBe(400);
    expect((await putCredentials('{"clientId": "x"}', `Bearer ${SECRET}`)).status).toBe(400);
    expect(
      (await putCredentials(JSON.stringify({ ...NEXT, certificate: '{bad' }), `Bearer ${SECRET}`)).status,
    ).toBe(400);
    expect(
      (await fetch(`${proxy.url}/credentials`, { headers: { authorization: `Bearer ${SECRET}` } })).status,
    ).toBe(405);
    expect((await json('/fake/v1/whoami')).body.clientId).toBe('worker');
  });

  it('replaces the credentials (200, empty body) for later requests; the task scopes stay', async () => {
    await startProxy();
    const res = await putCredentials(JSON.stringify({ ...NEXT, certificate: '' }), `Bearer ${SECRET}`);
    expect([res.status, await res.text()]).toEqual([200, '']);
    const { body, headers } = await json('/auth/v1/scopes/current');
    expect(body.scopes).toEqual(['assume:anonymous', ...TASK_SCOPES]);
    expect(tc.requests.at(-1)?.clientId).toBe('worker-2');
    expect(headers.get('x-taskcluster-proxy-perm-clientid')).toBe('worker-2');
  });

  it('lets a streaming request started before the swap finish with the old credentials', async () => {
    await startProxy();
    const target = new URL(`${proxy.url}/fake/v1/blob`);
    const req = http.request({
      host: target.hostname,
      port: target.port,
      path: target.pathname,
      method: 'PUT',
      headers: { 'content-type': 'application/octet-stream' },
    });
    const response = new Promise<{ status: number; body: string }>((resolve, reject) => {
      req.on('response', (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
    });
    req.write(Buffer.alloc(64 * 1024, 1));
    await new Promise((r) => setTimeout(r, 100));
    expect((await putCredentials(JSON.stringify(NEXT), `Bearer ${SECRET}`)).status).toBe(200);
    expect((await json('/fake/v1/whoami')).body.clientId).toBe('worker-2');
    req.end(Buffer.alloc(64 * 1024, 2));
    const done = await response;
    expect(done.status).toBe(200);
    expect(JSON.parse(done.body)).toMatchObject({ bytes: 128 * 1024, clientId: 'worker' });
  });
});

describe('/bewit', () => {
  it('answers 303 with the URL signed for an hour, restricted to the task scopes', async () => {
    await startProxy();
    const url = `${tc.rootUrl}/api/auth/v1/scopes/current?b=2&a=%2f`;
    const res = await fetch(`${proxy.url}/bewit`, { method: 'POST', body: ` ${url}\n`, redirect: 'manual' });
    expect(res.status).toBe(303);
    const location = res.headers.get('location') ?? '';
    expect(location.startsWith(`${url}&bewit=`)).toBe(true);
    // id \\ exp \\ mac \\ ext, with exp one hour from now (unix seconds).
    const [id, exp] = Buffer.from(location.slice(`${url}&bewit=`.length), 'base64url')
      .toString()
      .split('\\');
    expect(id).toBe('worker');
    expect(Math.abs(Number(exp) - (Math.floor(Date.now() / 1000) + 3600))).toBeLessThanOrEqual(5);
    expect(await res.text()).toBe(location);
    const signed = await fetch(location);
    expect(await signed.json()).toEqual({ scopes: ['assume:anonymous', ...TASK_SCOPES] });
    expect(tc.requests.at(-1)).toMatchObject({ scheme: 'bewit', clientId: 'worker' });
  });

  it('answers 400 to a body that is not an absolute URL', async () => {
    await startProxy();
    const res = await fetch(`${proxy.url}/bewit`, { method: 'POST', body: 'not a url' });
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(/^Error creating bewit url: /);
  });
});

describe('/__health', () => {
  it('answers 200 {status: "ok"}', async () => {
    await startProxy();
    expect(await json('/__health')).toMatchObject({ status: 200, body: { status: 'ok', version: '0.1.0' } });
  });

  it('answers as the express route did: JSON with the proxy headers, HEAD without a body, any case, a trailing slash', async () => {
    await startProxy();
    const get = await fetch(`${proxy.url}/__HEALTH/`);
    expect(get.status).toBe(200);
    expect(get.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(get.headers.get('x-taskcluster-proxy-version')).toBe('0.1.0');
    expect(get.headers.get('x-powered-by')).toBeNull();
    expect(await get.json()).toMatchObject({ status: 'ok' });
    const head = await fetch(`${proxy.url}/__health`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe(get.headers.get('content-length'));
    expect(await head.text()).toBe('');
  });

  it('leaves other methods to the control app, loaded on first use: 404 as before', async () => {
    await startProxy();
    const res = await fetch(`${proxy.url}/__health`, { method: 'POST' });
    expect(res.status).toBe(404);
    expect(res.headers.get('x-taskcluster-proxy-version')).toBe('0.1.0');
  });
});
