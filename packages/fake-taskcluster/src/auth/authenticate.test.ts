// fake-taskcluster's auth checked against the real taskcluster-client as the peer: every rule of
// PROTOCOLS.md §1.10 / §1.13, over HTTP on loopback.
import { createHmac } from 'node:crypto';
import hawk from 'hawk';
import taskcluster from 'taskcluster-client';
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeTaskcluster } from '../server.js';
import type { FakeTaskcluster, FakeTaskclusterOptions } from '../server.js';

const TOKEN = 'issuer-access-token-0123456789abcdef';
const ISSUER = {
  clientId: 'issuer',
  accessToken: TOKEN,
  scopes: ['auth:current-scopes', 'queue:*', 'auth:create-client:named/*', 'assume:project:x'],
};
const MIN = 60_000;

let tc: FakeTaskcluster | undefined;
let offset = 0;
afterEach(async () => {
  await tc?.close();
  tc = undefined;
  offset = 0;
});

async function start(extra: Partial<FakeTaskclusterOptions> = {}): Promise<FakeTaskcluster> {
  tc = await startFakeTaskcluster({ clients: [ISSUER], now: () => Date.now() + offset, ...extra });
  return tc;
}

type Creds = { clientId: string; accessToken: string; certificate?: string };

function auth(creds: Creds, authorizedScopes?: string[]) {
  return new taskcluster.Auth({
    rootUrl: tc!.rootUrl,
    credentials: creds,
    retries: 0,
    ...(authorizedScopes ? { authorizedScopes } : {}),
  });
}

async function failure(p: Promise<unknown>): Promise<{ statusCode: number; code: string; message: string }> {
  const err = (await p.then(
    () => undefined,
    (e: unknown) => e,
  )) as { statusCode: number; code: string; message: string } | undefined;
  if (!err) throw new Error('expected the request to fail');
  return err;
}

/** A certificate per PROTOCOLS.md §1.6, built independently of the fake's own code. */
function cert(o: {
  scopes: string[];
  start: number;
  expiry: number;
  name?: string;
  version?: number;
  seed?: string;
  key?: string;
}) {
  const seed = o.seed ?? 'S'.repeat(22) + 'T'.repeat(22);
  const c: Record<string, unknown> = {
    version: o.version ?? 1,
    scopes: o.scopes,
    start: o.start,
    expiry: o.expiry,
    seed,
  };
  if (o.name) c.issuer = ISSUER.clientId;
  const lines = [
    `version:${c.version}`,
    ...(o.name ? [`clientId:${o.name}`, `issuer:${ISSUER.clientId}`] : []),
    `seed:${seed}`,
    `start:${o.start}`,
    `expiry:${o.expiry}`,
    'scopes:',
    ...o.scopes,
  ];
  c.signature = createHmac('sha256', o.key ?? TOKEN)
    .update(lines.join('\n'))
    .digest('base64');
  const accessToken = createHmac('sha256', TOKEN)
    .update(seed)
    .digest('base64')
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
  return { clientId: o.name ?? ISSUER.clientId, accessToken, certificate: JSON.stringify(c) };
}

describe('permanent credentials', () => {
  it('returns the expanded scopes plus assume:anonymous, recording the client and scheme', async () => {
    await start({ roles: [{ roleId: 'project:x', scopes: ['secrets:get:project/x/*'] }] });
    const { scopes } = await auth(ISSUER).currentScopes();
    expect(scopes).toEqual([
      'assume:anonymous',
      'assume:project:x',
      'auth:create-client:named/*',
      'auth:current-scopes',
      'queue:*',
      'secrets:get:project/x/*',
    ]);
    expect(tc!.requests.at(-1)).toMatchObject({
      method: 'GET',
      path: '/api/auth/v1/scopes/current',
      clientId: 'issuer',
      scheme: 'hawk',
      status: 200,
    });
  });

  it('rejects a wrong access token with 401 Bad mac and www-authenticate: hawk', async () => {
    await start();
    const res = await fetch(`${tc!.rootUrl}/api/auth/v1/scopes/current`, {
      headers: {
        authorization: hawk.client.header(`${tc!.rootUrl}/api/auth/v1/scopes/current`, 'GET', {
          credentials: { id: 'issuer', key: 'wrong-token-wrong-token', algorithm: 'sha256' },
        }).header,
      },
    });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('hawk');
    const body = (await res.json()) as { code: string; message: string; requestInfo: { method: string } };
    expect(body.code).toBe('AuthenticationFailed');
    expect(body.message).toMatch(/^Bad mac/);
    expect(body.requestInfo.method).toBe('currentScopes');
  });

  it('rejects a MAC computed for another path (resource is the raw request-target)', async () => {
    await start();
    const signed = hawk.client.header(`${tc!.rootUrl}/api/auth/v1/scopes/current?a=%2F`, 'GET', {
      credentials: { id: 'issuer', key: TOKEN, algorithm: 'sha256' },
    }).header;
    const res = await fetch(`${tc!.rootUrl}/api/auth/v1/scopes/current?a=%2f`, {
      headers: { authorization: signed },
    });
    expect(res.status).toBe(401);
    const ok = await fetch(`${tc!.rootUrl}/api/auth/v1/scopes/current?a=%2F`, {
      headers: { authorization: signed },
    });
    expect(ok.status).toBe(200);
  });

  it('accepts a timestamp 14 minutes off and rejects 16 minutes (injected clock)', async () => {
    await start();
    offset = 14 * MIN;
    expect((await auth(ISSUER).currentScopes()).scopes).toContain('queue:*');
    offset = -16 * MIN;
    expect((await failure(auth(ISSUER).currentScopes())).message).toMatch(/^Stale timestamp/);
  });

  it('rejects unknown, disabled and expired clients', async () => {
    await start({
      clients: [
        ISSUER,
        { clientId: 'off', accessToken: TOKEN, scopes: ['*'], disabled: true },
        { clientId: 'old', accessToken: TOKEN, scopes: ['*'], expires: new Date(Date.now() - 1000) },
      ],
    });
    expect((await failure(auth({ clientId: 'nobody', accessToken: TOKEN }).currentScopes())).message).toMatch(
      /`nobody` not found/,
    );
    expect((await failure(auth({ clientId: 'off', accessToken: TOKEN }).currentScopes())).message).toMatch(
      /`off` is disabled/,
    );
    expect((await failure(auth({ clientId: 'old', accessToken: TOKEN }).currentScopes())).message).toMatch(
      /`old` has expired/,
    );
  });

  it('answers 403 InsufficientScopes naming the missing scope', async () => {
    await start({ clients: [{ clientId: 'weak', accessToken: TOKEN, scopes: ['queue:ping'] }] });
    const err = await failure(auth({ clientId: 'weak', accessToken: TOKEN }).currentScopes());
    expect(err.statusCode).toBe(403);
    expect(err.code).toBe('InsufficientScopes');
    expect(err.message).toContain('"auth:current-scopes"');
  });

  it('rejects an ext that is not base64 JSON', async () => {
    await start();
    const url = `${tc!.rootUrl}/api/auth/v1/scopes/current`;
    const header = hawk.client.header(url, 'GET', {
      credentials: { id: 'issuer', key: TOKEN, algorithm: 'sha256' },
      ext: 'bm90IGpzb24=',
    }).header;
    const res = await fetch(url, { headers: { authorization: header } });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { message: string }).message).toMatch(/^Failed to parse ext/);
  });
});

describe('payload hash and forwarded headers', () => {
  it('verifies a signed payload hash over the raw JSON body', async () => {
    await start({
      clients: [{ ...ISSUER, scopes: [...ISSUER.scopes, 'auth:expand-scopes'] }],
      roles: [{ roleId: 'project:x', scopes: ['secrets:get:x'] }],
    });
    const url = `${tc!.rootUrl}/api/auth/v1/scopes/expand`;
    const payload = JSON.stringify({ scopes: ['assume:project:x'] });
    const sign = (p: string) =>
      hawk.client.header(url, 'POST', {
        credentials: { id: 'issuer', key: TOKEN, algorithm: 'sha256' },
        payload: p,
        contentType: 'application/json',
      }).header;
    const ok = await fetch(url, {
      method: 'POST',
      body: payload,
      headers: { 'content-type': 'application/json', authorization: sign(payload) },
    });
    expect(await ok.json()).toEqual({ scopes: ['assume:project:x', 'secrets:get:x'] });
    const tampered = await fetch(url, {
      method: 'POST',
      body: JSON.stringify({ scopes: ['*'] }),
      headers: { 'content-type': 'application/json', authorization: sign(payload) },
    });
    expect(tampered.status).toBe(401);
    expect(((await tampered.json()) as { message: string }).message).toMatch(/^Invalid payload hash/);
  });

  it('takes the port from X-Forwarded-Proto / X-Forwarded-Port, as behind a load balancer', async () => {
    await start();
    const path = '/api/auth/v1/scopes/current';
    const host = new URL(tc!.rootUrl).hostname;
    const signed = (port: number) =>
      hawk.client.header({ protocol: 'https:', hostname: host, port, pathname: path, search: '' }, 'GET', {
        credentials: { id: 'issuer', key: TOKEN, algorithm: 'sha256' },
      }).header;
    const call = (authorization: string, headers: Record<string, string>) =>
      fetch(`${tc!.rootUrl}${path}`, { headers: { authorization, ...headers } });
    expect((await call(signed(443), { 'x-forwarded-proto': 'https' })).status).toBe(200);
    expect((await call(signed(8443), { 'x-forwarded-port': '8443' })).status).toBe(200);
    expect((await call(signed(443), {})).status).toBe(401);
  });
});

describe('authorizedScopes', () => {
  it('restricts to the authorized scopes (plus assume:anonymous), never more', async () => {
    await start();
    const { scopes } = await auth(ISSUER, ['auth:current-scopes', 'queue:get-task:abc']).currentScopes();
    expect(scopes).toEqual(['assume:anonymous', 'auth:current-scopes', 'queue:get-task:abc']);
  });

  it('rejects authorizedScopes the credentials do not satisfy', async () => {
    await start();
    const err = await failure(auth(ISSUER, ['auth:current-scopes', 'secrets:get:other']).currentScopes());
    expect(err.statusCode).toBe(401);
    expect(err.message).toMatch(/^Supplied credentials do not satisfy authorizedScopes/);
  });

  it('[] leaves only the anonymous role', async () => {
    await start({ roles: [{ roleId: 'anonymous', scopes: ['auth:current-scopes'] }] });
    expect((await auth(ISSUER, []).currentScopes()).scopes).toEqual([
      'assume:anonymous',
      'auth:current-scopes',
    ]);
  });
});

describe('temporary credentials', () => {
  it('anonymous (unnamed) credentials from createTemporaryCredentials carry the certificate scopes', async () => {
    await start();
    const temp = taskcluster.createTemporaryCredentials({
      credentials: ISSUER,
      scopes: ['auth:current-scopes', 'queue:get-task:*'],
      expiry: new Date(Date.now() + 60 * MIN),
    });
    const { scopes } = await auth(temp).currentScopes();
    expect(scopes).toEqual(['assume:anonymous', 'auth:current-scopes', 'queue:get-task:*']);
  });

  it('named credentials need auth:create-client:<name> and report the new clientId', async () => {
    await start({
      clients: [ISSUER, { clientId: 'plain', accessToken: TOKEN, scopes: ['auth:current-scopes'] }],
    });
    const temp = taskcluster.createTemporaryCredentials({
      clientId: 'named/worker-1',
      credentials: ISSUER,
      scopes: ['auth:current-scopes'],
      expiry: new Date(Date.now() + 60 * MIN),
    });
    expect((await auth(temp).currentScopes()).scopes).toEqual(['assume:anonymous', 'auth:current-scopes']);
    expect(tc!.requests.at(-1)?.clientId).toBe('named/worker-1');
    const lacking = taskcluster.createTemporaryCredentials({
      clientId: 'other/x',
      credentials: ISSUER,
      scopes: ['auth:current-scopes'],
      expiry: new Date(Date.now() + 60 * MIN),
    });
    expect((await failure(auth(lacking).currentScopes())).message).toMatch(
      /doesn't have `auth:create-client:other\/x`/,
    );
  });

  it('rejects certificate scopes the issuer does not hold', async () => {
    await start();
    const temp = taskcluster.createTemporaryCredentials({
      credentials: ISSUER,
      scopes: ['auth:current-scopes', 'secrets:*'],
      expiry: new Date(Date.now() + 60 * MIN),
    });
    expect((await failure(auth(temp).currentScopes())).message).toMatch(
      /doesn't satisfiy all certificate scopes/,
    );
  });

  it('combines a certificate with authorizedScopes', async () => {
    await start();
    const temp = taskcluster.createTemporaryCredentials({
      credentials: ISSUER,
      scopes: ['auth:current-scopes', 'queue:*'],
      expiry: new Date(Date.now() + 60 * MIN),
    });
    expect((await auth(temp, ['auth:current-scopes', 'queue:ping']).currentScopes()).scopes).toEqual([
      'assume:anonymous',
      'auth:current-scopes',
      'queue:ping',
    ]);
    expect(
      (await failure(auth(temp, ['auth:current-scopes', 'assume:project:x']).currentScopes())).statusCode,
    ).toBe(401);
  });

  it('expands assume: scopes of a certificate at the end', async () => {
    await start({ roles: [{ roleId: 'project:x', scopes: ['secrets:get:x'] }] });
    const now = Date.now();
    expect(
      (
        await auth(
          cert({ scopes: ['assume:project:x', 'auth:current-scopes'], start: now, expiry: now + MIN }),
        ).currentScopes()
      ).scopes,
    ).toContain('secrets:get:x');
  });

  it('accepts an empty scope list (signature string ends in "scopes:")', async () => {
    await start({ roles: [{ roleId: 'anonymous', scopes: ['auth:current-scopes'] }] });
    const now = Date.now();
    expect((await auth(cert({ scopes: [], start: now, expiry: now + MIN })).currentScopes()).scopes).toEqual([
      'assume:anonymous',
      'auth:current-scopes',
    ]);
  });

  it.each([
    ['version', { version: 2 }, /version must be 1/],
    ['seed length', { seed: 'short' }, /seed must be 44 characters/],
    ['signature', { key: 'another-issuer-token-xyz' }, /signature is not valid/],
  ])('rejects a bad %s', async (_name, change, message) => {
    await start();
    const now = Date.now();
    expect(
      (
        await failure(
          auth(
            cert({ scopes: ['auth:current-scopes'], start: now, expiry: now + MIN, ...change }),
          ).currentScopes(),
        )
      ).message,
    ).toMatch(message);
  });

  it('allows 5 minutes of skew on start and expiry, not more', async () => {
    await start();
    const now = Date.now();
    const c = cert({ scopes: ['auth:current-scopes'], start: now, expiry: now + MIN });
    offset = -4 * MIN;
    await expect(auth(c).currentScopes()).resolves.toBeTruthy();
    offset = -6 * MIN;
    expect((await failure(auth(c).currentScopes())).message).toMatch(/start > now/);
    offset = MIN + 4 * MIN;
    await expect(auth(c).currentScopes()).resolves.toBeTruthy();
    offset = MIN + 6 * MIN;
    expect((await failure(auth(c).currentScopes())).message).toMatch(/expiry < now/);
  });

  it('rejects certificates spanning more than 31 days', async () => {
    await start();
    const now = Date.now();
    const day = 24 * 60 * MIN;
    await expect(
      auth(cert({ scopes: ['auth:current-scopes'], start: now, expiry: now + 31 * day })).currentScopes(),
    ).resolves.toBeTruthy();
    expect(
      (
        await failure(
          auth(
            cert({ scopes: ['auth:current-scopes'], start: now, expiry: now + 31 * day + 1 }),
          ).currentScopes(),
        )
      ).message,
    ).toMatch(/31 days/);
  });

  it('rejects an anonymous certificate carrying clientId, and an issuer equal to the id', async () => {
    await start();
    const now = Date.now();
    const c = cert({ scopes: ['auth:current-scopes'], start: now, expiry: now + MIN });
    const withClientId = {
      ...c,
      certificate: JSON.stringify({ ...JSON.parse(c.certificate), clientId: 'x' }),
    };
    expect((await failure(auth(withClientId).currentScopes())).message).toMatch(
      /clientId must only be used with/,
    );
    const selfIssued = {
      ...c,
      certificate: JSON.stringify({ ...JSON.parse(c.certificate), issuer: 'issuer' }),
    };
    expect((await failure(auth(selfIssued).currentScopes())).message).toMatch(/issuer must differ/);
  });
});

describe('bewits', () => {
  it('authenticates a signed URL from buildSignedUrl, GET only, until it expires (no skew)', async () => {
    await start();
    const client = auth(ISSUER);
    const url = client.buildSignedUrl(client.currentScopes, { expiration: 60 });
    const ok = await fetch(url);
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { scopes: string[] }).scopes).toContain('queue:*');
    expect(tc!.requests.at(-1)).toMatchObject({ scheme: 'bewit', clientId: 'issuer' });
    const echo = `${tc!.rootUrl}/api/fake/v1/echo/x?a=1`;
    const bewit = hawk.client.getBewit(echo, {
      credentials: { id: 'issuer', key: TOKEN, algorithm: 'sha256' },
      ttlSec: 60,
    });
    expect((await fetch(`${echo}&bewit=${bewit}`)).status).toBe(200);
    const put = await fetch(`${echo}&bewit=${bewit}`, { method: 'PUT' });
    expect(put.status).toBe(401);
    expect(((await put.json()) as { message: string }).message).toMatch(/only valid for GET and HEAD/);
    offset = 61_000;
    const late = await fetch(url);
    expect(late.status).toBe(401);
    expect(((await late.json()) as { message: string }).message).toMatch(/^Access expired/);
  });

  it('rejects a request with both a bewit and an Authorization header', async () => {
    await start();
    const client = auth(ISSUER);
    const url = client.buildSignedUrl(client.currentScopes);
    const header = hawk.client.header(url, 'GET', {
      credentials: { id: 'issuer', key: TOKEN, algorithm: 'sha256' },
    }).header;
    const res = await fetch(url, { headers: { authorization: header } });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { message: string }).message).toMatch(/two authentication schemes/);
  });

  it('rejects a bewit whose ext carries authorizedScopes the client lacks', async () => {
    await start();
    const client = auth(ISSUER, ['secrets:get:nope']);
    const res = await fetch(client.buildSignedUrl(client.currentScopes));
    expect(res.status).toBe(401);
  });
});

describe('anonymous requests and routing', () => {
  it('gives unauthenticated requests the anonymous role, and ping needs nothing', async () => {
    await start({ roles: [{ roleId: 'anonymous', scopes: ['auth:current-scopes'] }] });
    const res = await fetch(`${tc!.rootUrl}/api/auth/v1/scopes/current`);
    expect(await res.json()).toEqual({ scopes: ['assume:anonymous', 'auth:current-scopes'] });
    expect((await fetch(`${tc!.rootUrl}/api/queue/v1/ping`)).status).toBe(200);
    expect(tc!.requests.map((r) => r.scheme)).toEqual(['none', 'none']);
  });

  it('serves queue.task(taskId) to callers with queue:get-task:<taskId>, 404 for unknown tasks', async () => {
    await start({
      clients: [ISSUER, { clientId: 'other', accessToken: TOKEN, scopes: ['queue:get-task:b'] }],
      tasks: { a: { scopes: ['secrets:get:x'], payload: {} } },
    });
    expect(
      await new taskcluster.Queue({ rootUrl: tc!.rootUrl, credentials: ISSUER, retries: 0 }).task('a'),
    ).toEqual({ scopes: ['secrets:get:x'], payload: {} });
    const other = new taskcluster.Queue({
      rootUrl: tc!.rootUrl,
      credentials: { clientId: 'other', accessToken: TOKEN },
      retries: 0,
    });
    expect(await failure(other.task('a'))).toMatchObject({ statusCode: 403, code: 'InsufficientScopes' });
    tc!.tasks.add('b', { scopes: [] });
    expect((await other.task('b')).scopes).toEqual([]);
    expect(
      await failure(
        new taskcluster.Queue({ rootUrl: tc!.rootUrl, credentials: ISSUER, retries: 0 }).task('nope'),
      ),
    ).toMatchObject({ statusCode: 404, code: 'ResourceNotFound' });
  });

  it('answers 404 ResourceNotFound for unknown endpoints', async () => {
    await start();
    const res = await fetch(`${tc!.rootUrl}/api/queue/v1/nope`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as { code: string }).code).toBe('ResourceNotFound');
  });

  it('shapes errors as Taskcluster does (§1.12): {code, message + footer, requestInfo}; www-authenticate only on 401', async () => {
    await start({ clients: [{ clientId: 'weak', accessToken: TOKEN, scopes: [] }] });
    const url = `${tc!.rootUrl}/api/auth/v1/scopes/current`;
    const forbidden = await fetch(url, {
      headers: {
        authorization: hawk.client.header(url, 'GET', {
          credentials: { id: 'weak', key: TOKEN, algorithm: 'sha256' },
        }).header,
      },
    });
    const unauthorized = await fetch(url, {
      headers: {
        authorization: hawk.client.header(url, 'GET', {
          credentials: { id: 'weak', key: `${TOKEN}x`, algorithm: 'sha256' },
        }).header,
      },
    });
    for (const [res, status, code] of [
      [forbidden, 403, 'InsufficientScopes'],
      [unauthorized, 401, 'AuthenticationFailed'],
    ] as const) {
      expect(res.status).toBe(status);
      expect(res.headers.get('www-authenticate')).toBe(status === 401 ? 'hawk' : null);
      const body = (await res.json()) as Record<string, unknown>;
      expect(Object.keys(body).sort()).toEqual(['code', 'message', 'requestInfo']);
      expect(body.code).toBe(code);
      expect(body.message).toMatch(
        new RegExp(
          `\\n---\\n\\n\\* method: +currentScopes\\n\\* errorCode: +${code}\\n\\* statusCode: +${status}\\n\\* time: +\\d{4}-`,
        ),
      );
      expect(body.requestInfo).toEqual({
        method: 'currentScopes',
        params: {},
        payload: {},
        time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      });
      expect(JSON.stringify(body)).not.toContain(TOKEN);
    }
  });
});
