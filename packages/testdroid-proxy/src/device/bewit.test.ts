import { describe, expect, it } from 'vitest';
import { signUrl } from './bewit.js';

const now = Date.UTC(2026, 0, 1);
const decode = (signed: string) => {
  const bewit = new URL(signed).searchParams.get('bewit') ?? '';
  return Buffer.from(bewit, 'base64url').toString('utf8').split('\\');
};

describe('signUrl', () => {
  it('appends ?bewit= with id, expiry now+ttl, a sha256 mac and no ext', () => {
    const signed = signUrl('https://q.example/a/b.zip', { clientId: 'w/1', accessToken: 'tok' }, 3600, now);
    expect(signed).toMatch(/^https:\/\/q\.example\/a\/b\.zip\?bewit=[\w-]+$/);
    const [id, exp, mac, ext] = decode(signed);
    expect([id, exp, ext]).toEqual(['w/1', String(now / 1000 + 3600), '']);
    expect(Buffer.from(mac ?? '', 'base64')).toHaveLength(32);
  });

  it('appends &bewit= last when the URL already has a query, before any fragment', () => {
    const signed = signUrl(
      'https://q.example/b.zip?x=1&y=2#frag',
      { clientId: 'w', accessToken: 'tok' },
      60,
      now,
    );
    expect(signed).toMatch(/^https:\/\/q\.example\/b\.zip\?x=1&y=2&bewit=[\w-]+$/);
  });

  it('puts the certificate of temporary credentials into ext as a JSON object', () => {
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
      { clientId: 'w', accessToken: 'tok', certificate: JSON.stringify(certificate) },
      60,
      now,
    );
    const ext = decode(signed)[3] ?? '';
    expect(JSON.parse(Buffer.from(ext, 'base64').toString('utf8'))).toEqual({ certificate });
  });

  it('refuses a certificate that is not JSON', () => {
    expect(() =>
      signUrl('https://q/b', { clientId: 'w', accessToken: 't', certificate: '{oops' }, 60, now),
    ).toThrow('The Taskcluster certificate is not valid JSON; pass the certificate exactly as issued');
  });
});
