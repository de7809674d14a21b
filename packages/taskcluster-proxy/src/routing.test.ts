// URL mapping, PROTOCOLS.md §4.2: every form, the seed's legacy hosts, and encoding edge cases.
import { describe, expect, it } from 'vitest';
import { apiTarget, mapRequest } from './routing.js';

const LEGACY = 'https://taskcluster.net';
const MODERN = 'https://tc.example.com';

function href(raw: string, root: string): string {
  const r = mapRequest(raw, root);
  if (r.kind !== 'proxy') throw new Error(`not proxied: ${r.reason}`);
  return r.target.href;
}

describe('mapRequest, the PROTOCOLS.md §4.2 table', () => {
  it.each([
    [
      '/queue/v1/task/abc',
      'https://queue.taskcluster.net/v1/task/abc',
      'https://tc.example.com/api/queue/v1/task/abc',
    ],
    [
      '/api/queue/v1/task/abc',
      'https://queue.taskcluster.net/v1/task/abc',
      'https://tc.example.com/api/queue/v1/task/abc',
    ],
    [
      '/scheduler/v1/x',
      'https://scheduler.taskcluster.net/v1/x',
      'https://tc.example.com/api/scheduler/v1/x',
    ],
    [
      '/index/v1/task/a.b.c',
      'https://index.taskcluster.net/v1/task/a.b.c',
      'https://tc.example.com/api/index/v1/task/a.b.c',
    ],
    [
      '/aws-provisioner/v1/y/z',
      'https://aws-provisioner.taskcluster.net/v1/y/z',
      'https://tc.example.com/api/aws-provisioner/v1/y/z',
    ],
    [
      '/queue/v1/y%2fz/a?key=value',
      'https://queue.taskcluster.net/v1/y%2fz/a?key=value',
      'https://tc.example.com/api/queue/v1/y%2fz/a?key=value',
    ],
    [
      '/queue.taskcluster.net/v1/task/abc',
      'https://queue.taskcluster.net/v1/task/abc',
      'https://queue.taskcluster.net/v1/task/abc',
    ],
    [
      '/tc.example.com/api/queue/v1/task/ts%2ff5?k=v%20m',
      'https://tc.example.com/api/queue/v1/task/ts%2ff5?k=v%20m',
      'https://tc.example.com/api/queue/v1/task/ts%2ff5?k=v%20m',
    ],
  ])('%s', (raw, legacy, modern) => {
    if (!raw.startsWith('/tc.example.com/')) expect(href(raw, LEGACY)).toBe(legacy);
    expect(href(raw, MODERN)).toBe(modern);
  });

  it.each([
    '/',
    '/bad_name!/x',
    '/-queue/v1/x',
    '/queue-/v1/x',
    '/queue',
    '/queue/v_1/x',
    '/api',
    '/api/queue',
    '/api/queue/v1',
    '/api/bad_name/v1/x',
    'http://evil/x',
  ])('refuses %s with a one-line reason', (raw) => {
    const r = mapRequest(raw, MODERN);
    expect(r.kind).toBe('invalid');
    if (r.kind === 'invalid') expect(r.reason).not.toContain('\n');
  });

  it('names the bad service in the reason', () => {
    expect(mapRequest('/bad_name!/x', MODERN)).toEqual({
      kind: 'invalid',
      reason: expect.stringMatching(/^Unknown taskcluster service: "bad_name!"/),
    });
    expect(mapRequest('/api/queue', MODERN)).toEqual({
      kind: 'invalid',
      reason: expect.stringMatching(/^invalid \/api path/),
    });
  });
});

describe('mapRequest, the hostname form reaches only Taskcluster', () => {
  it.each([
    ['/queue.taskcluster.net/v1/x', 'https://queue.taskcluster.net/v1/x'],
    ['/Queue.TaskCluster.NET/v1/x', 'https://queue.taskcluster.net/v1/x'],
    ['/tc.example.com/api/queue/v1/x', 'https://tc.example.com/api/queue/v1/x'],
    ['/TC.Example.COM/x?y', 'https://tc.example.com/x?y'],
  ])('forwards %s (root URL host or legacy service host) to %s', (raw, expected) => {
    expect(href(raw, MODERN)).toBe(expected);
  });

  it('sends the root URL host form to the root URL origin (its scheme and port), not to https:443', () => {
    expect(href('/127.0.0.1/api/queue/v1/x', 'http://127.0.0.1:4711')).toBe(
      'http://127.0.0.1:4711/api/queue/v1/x',
    );
  });

  it.each([
    ['a foreign host', '/myqueue.somewhere.com/v1/task/x', 'myqueue.somewhere.com'],
    ['a name with an empty label', '/a..b/x', 'a..b'],
    ['an IPv4 literal (cloud metadata)', '/169.254.169.254/latest/meta-data/', '169.254.169.254'],
    ['an IPv4 literal in hex', '/0xa9.0xfe.0xa9.0xfe/latest', '0xa9.0xfe.0xa9.0xfe'],
    ['an IPv6 literal', '/[::1]/x', '[::1]'],
    ['an IPv6 literal (mapped v4)', '/[::ffff:a9fe:a9fe]/latest', '[::ffff:a9fe:a9fe]'],
    ['an IPv6 literal without brackets', '/fe80::1/x', 'fe80::1'],
    ['a suffix of the root host', '/evil-tc.example.com/x', 'evil-tc.example.com'],
    ['the root host as a prefix', '/tc.example.com.evil.com/x', 'tc.example.com.evil.com'],
    ['the root host with a trailing dot', '/tc.example.com./x', 'tc.example.com.'],
    ['the root host with a port', '/tc.example.com:8443/x', 'tc.example.com:8443'],
    ['userinfo before the root host', '/user:pw@tc.example.com/x', 'user:pw@tc.example.com'],
    ['the root host as userinfo', '/tc.example.com@evil.com/x', 'tc.example.com@evil.com'],
    ['an encoded userinfo', '/tc.example.com%40evil.com/x', 'tc.example.com%40evil.com'],
    ['an encoded slash', '/evil.com%2f.tc.example.com/x', 'evil.com%2f.tc.example.com'],
    ['a deeper taskcluster.net name', '/evil.com.taskcluster.net/x', 'evil.com.taskcluster.net'],
    ['a lookalike of taskcluster.net', '/queue.taskcluster.net.evil.com/x', 'queue.taskcluster.net.evil.com'],
    ['taskcluster.net as a suffix', '/queue-taskcluster.net/x', 'queue-taskcluster.net'],
  ])('refuses %s (%s) with one line naming the host and what is allowed', (_what, raw, host) => {
    const r = mapRequest(raw, MODERN);
    expect(r).toEqual({
      kind: 'refused',
      reason: `host ${JSON.stringify(host)} is not allowed: the proxy forwards only to the root URL's host (tc.example.com) and the Taskcluster services <service>.taskcluster.net; use /<service>/<version>/<path>`,
    });
  });

  it('refuses the legacy root host itself unless it is the root URL host', () => {
    expect(mapRequest('/taskcluster.net/x', MODERN).kind).toBe('refused');
    expect(href('/taskcluster.net/x', LEGACY)).toBe('https://taskcluster.net/x');
  });
});

describe('mapRequest, encoding and shape edge cases', () => {
  it('keeps percent-encoding byte for byte, in any case, and the raw query verbatim', () => {
    expect(href('/queue/v1/a%2Fb/%2fc%20d?x=%2F&y=a+b&&z', MODERN)).toBe(
      'https://tc.example.com/api/queue/v1/a%2Fb/%2fc%20d?x=%2F&y=a+b&&z',
    );
    expect(href('/queue/v1/%E2%9C%93?q=%e2%9c%93', MODERN)).toBe(
      'https://tc.example.com/api/queue/v1/%E2%9C%93?q=%e2%9c%93',
    );
  });

  it('keeps double slashes, dot segments and a trailing "?"', () => {
    expect(href('/queue/v1/a//b/./../c', MODERN)).toBe('https://tc.example.com/api/queue/v1/a//b/./../c');
    expect(href('/queue/v1/task?', MODERN)).toBe('https://tc.example.com/api/queue/v1/task?');
  });

  it('treats a shortcut without a path as an empty path (upstream panicked)', () => {
    expect(href('/queue/v1', MODERN)).toBe('https://tc.example.com/api/queue/v1/');
    expect(href('/queue/v1?x=1', MODERN)).toBe('https://tc.example.com/api/queue/v1/?x=1');
  });

  it('gives the signer and the upstream the same raw path, host and port', () => {
    const r = mapRequest('/queue/v1/y%2fz?k=v', 'http://127.0.0.1:4711/');
    expect(r).toEqual({
      kind: 'proxy',
      target: {
        protocol: 'http:',
        hostname: '127.0.0.1',
        port: 4711,
        host: '127.0.0.1:4711',
        path: '/api/queue/v1/y%2fz',
        query: 'k=v',
        href: 'http://127.0.0.1:4711/api/queue/v1/y%2fz?k=v',
      },
    });
    const h = mapRequest('/queue.taskcluster.net/v1/ping', MODERN);
    expect(h.kind).toBe('proxy');
    expect(h.kind === 'proxy' && [h.target.host, h.target.port]).toEqual(['queue.taskcluster.net', 443]);
  });

  it('keeps a root URL with a path prefix and trims its trailing slashes', () => {
    expect(apiTarget('https://example.com/tc//', 'queue', 'v1', '/task/x').href).toBe(
      'https://example.com/tc/api/queue/v1/task/x',
    );
    expect(apiTarget('https://taskcluster.net/', 'index', 'v1', 'task/a').href).toBe(
      'https://index.taskcluster.net/v1/task/a',
    );
  });
});
