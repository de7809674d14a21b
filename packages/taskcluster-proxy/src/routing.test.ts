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
      '/myqueue.somewhere.com/v1/task/ts%2ff5?k=v%20m',
      'https://myqueue.somewhere.com/v1/task/ts%2ff5?k=v%20m',
      'https://myqueue.somewhere.com/v1/task/ts%2ff5?k=v%20m',
    ],
  ])('%s', (raw, legacy, modern) => {
    expect(href(raw, LEGACY)).toBe(legacy);
    expect(href(raw, MODERN)).toBe(modern);
  });

  it.each([
    '/',
    '/bad_name!/x',
    '/-queue/v1/x',
    '/queue-/v1/x',
    '/a..b/x',
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
