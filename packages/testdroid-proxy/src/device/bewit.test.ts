import { describe, expect, it } from 'vitest';
import { signUrl } from './bewit.js';

const now = Date.UTC(2026, 0, 1);
const decode = (signed: string) => {
  const bewit = new URL(signed).searchParams.get('bewit') ?? '';
  return Buffer.from(bewit, 'base64url').toString('utf8').split('\\');
};
const extOf = (signed: string): unknown =>
  JSON.parse(Buffer.from(decode(signed)[3] ?? '', 'base64').toString('utf8'));
const creds = (over: { certificate?: string; authorizedScopes?: string[] } = {}) => ({
  clientId: 'w/1',
  accessToken: 'tok',
  authorizedScopes: ['queue:get-artifact:private/build/*'],
  ...over,
});

describe('signUrl', () => {
  it('appends ?bewit= with id, expiry now+ttl, a sha256 mac and the task scopes as authorizedScopes', () => {
    const signed = signUrl('https://q.example/a/b.zip', creds(), 3600, now);
    expect(signed).toMatch(/^https:\/\/q\.example\/a\/b\.zip\?bewit=[\w-]+$/);
    const [id, exp, mac] = decode(signed);
    expect([id, exp]).toEqual(['w/1', String(now / 1000 + 3600)]);
    expect(Buffer.from(mac ?? '', 'base64')).toHaveLength(32);
    expect(extOf(signed)).toEqual({ authorizedScopes: ['queue:get-artifact:private/build/*'] });
  });

  it('restricts even a task without scopes: authorizedScopes [] leaves only the anonymous role', () => {
    expect(extOf(signUrl('https://q/b', creds({ authorizedScopes: [] }), 60, now))).toEqual({
      authorizedScopes: [],
    });
  });

  it('appends &bewit= last when the URL already has a query, before any fragment', () => {
    const signed = signUrl('https://q.example/b.zip?x=1&y=2#frag', creds(), 60, now);
    expect(signed).toMatch(/^https:\/\/q\.example\/b\.zip\?x=1&y=2&bewit=[\w-]+$/);
  });

  it('puts the certificate of temporary credentials into ext beside authorizedScopes', () => {
    const certificate = {
      version: 1,
      scopes: ['queue:get-artifact:private/*'],
      start: 1,
      expiry: 2,
      seed: 's',
      signature: 'sig',
    };
    const signed = signUrl(
      'https://q.example/b.zip',
      creds({ certificate: JSON.stringify(certificate) }),
      60,
      now,
    );
    expect(extOf(signed)).toEqual({ certificate, authorizedScopes: ['queue:get-artifact:private/build/*'] });
  });

  it('refuses a certificate that is not JSON', () => {
    expect(() => signUrl('https://q/b', creds({ certificate: '{oops' }), 60, now)).toThrow(
      'The Taskcluster certificate is not valid JSON; pass the certificate exactly as issued',
    );
  });
});
