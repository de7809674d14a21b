// Signing: the header and bewit the proxy makes verify with hawk's server side over exactly the
// raw path, host and port the upstream sees; ext carries the certificate and authorizedScopes.
import hawk from 'hawk';
import { describe, expect, it } from 'vitest';
import { parseCredentials } from './credentials.js';
import { mapRequest } from './routing.js';
import type { Target } from './routing.js';
import { authorizationHeader, ext, signedUrl } from './signing.js';

const perm = parseCredentials({ clientId: 'worker', accessToken: 'worker-token-0123456789' });
const cert = { version: 1, scopes: ['queue:*'], start: 1, expiry: 2, seed: 's'.repeat(44), signature: 'sig' };
const temp = parseCredentials({
  clientId: 'worker',
  accessToken: 'derived-token',
  certificate: JSON.stringify(cert),
});

function target(raw: string): Target {
  const r = mapRequest(raw, 'http://tc.local:8080');
  if (r.kind !== 'proxy') throw new Error(r.reason);
  return r.target;
}

function decodeExt(header: string): unknown {
  const value = hawk.utils.parseAuthorizationHeader(header).ext;
  return value === undefined ? undefined : JSON.parse(Buffer.from(value, 'base64').toString('utf8'));
}

describe('authorizationHeader', () => {
  it('verifies server-side over the raw path+query, target host and port, with sha256', async () => {
    const t = target('/queue/v1/y%2fz/a?key=v%20m&b=%2F');
    const authorization = authorizationHeader(t, 'get', perm, ['queue:get-task:*']);
    const request = {
      method: 'GET',
      url: '/api/queue/v1/y%2fz/a?key=v%20m&b=%2F',
      host: 'tc.local',
      port: 8080,
      authorization,
    };
    const { credentials } = await hawk.server.authenticate(request, async (id) => ({
      id,
      key: perm.accessToken,
      algorithm: 'sha256' as const,
    }));
    expect(credentials.id).toBe('worker');
    const reEncoded = { ...request, url: '/api/queue/v1/y%2Fz/a?key=v%20m&b=%2F' };
    await expect(
      hawk.server.authenticate(reEncoded, async (id) => ({
        id,
        key: perm.accessToken,
        algorithm: 'sha256' as const,
      })),
    ).rejects.toThrow(/Bad mac/);
    const otherPort = { ...request, port: 443 };
    await expect(
      hawk.server.authenticate(otherPort, async (id) => ({
        id,
        key: perm.accessToken,
        algorithm: 'sha256' as const,
      })),
    ).rejects.toThrow(/Bad mac/);
  });

  it('puts the certificate as an object and authorizedScopes in ext, and omits ext when neither applies', () => {
    expect(decodeExt(authorizationHeader(target('/queue/v1/x'), 'GET', temp, ['a', 'b']))).toEqual({
      certificate: cert,
      authorizedScopes: ['a', 'b'],
    });
    expect(decodeExt(authorizationHeader(target('/queue/v1/x'), 'GET', perm, []))).toEqual({
      authorizedScopes: [],
    });
    expect(decodeExt(authorizationHeader(target('/queue/v1/x'), 'GET', temp, undefined))).toEqual({
      certificate: cert,
    });
    expect(ext(perm, undefined)).toBeUndefined();
    expect(authorizationHeader(target('/queue/v1/x'), 'GET', perm, undefined)).not.toContain('ext=');
  });

  it('makes a fresh nonce for every header', () => {
    const attrs = (h: string) => hawk.utils.parseAuthorizationHeader(h);
    const a = attrs(authorizationHeader(target('/queue/v1/x'), 'GET', perm, undefined));
    const b = attrs(authorizationHeader(target('/queue/v1/x'), 'GET', perm, undefined));
    expect(a.nonce).not.toBe(b.nonce);
    expect(a.mac).not.toBe(b.mac);
  });
});

describe('signedUrl', () => {
  it('appends the bewit last and verifies server-side with the query untouched', async () => {
    const t = target('/queue/v1/task/x?b=2&a=%2f');
    const url = signedUrl(t, perm, ['queue:get-task:x'], 3600);
    expect(url).toMatch(/^http:\/\/tc\.local:8080\/api\/queue\/v1\/task\/x\?b=2&a=%2f&bewit=[\w-]+$/);
    const request = {
      method: 'GET',
      url: url.slice('http://tc.local:8080'.length),
      host: 'tc.local',
      port: 8080,
    };
    const { credentials, attributes } = await hawk.server.authenticateBewit(request, async (id) => ({
      id,
      key: perm.accessToken,
      algorithm: 'sha256' as const,
    }));
    expect(credentials.id).toBe('worker');
    expect(JSON.parse(Buffer.from(attributes.ext, 'base64').toString('utf8'))).toEqual({
      authorizedScopes: ['queue:get-task:x'],
    });
    expect(Number(attributes.exp) * 1000 - Date.now()).toBeGreaterThan(3500_000);
  });

  it('uses "?bewit=" when the URL has no query', () => {
    expect(signedUrl(target('/queue/v1/task/x'), perm, undefined, 60)).toMatch(/\/task\/x\?bewit=[\w-]+$/);
  });
});
