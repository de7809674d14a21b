/**
 * @module routing
 * Maps a task's raw request-target to the Taskcluster URL it means (PROTOCOLS.md §4.2): the
 * root-URL form `/api/<service>/<version>/<path>`, the shortcut `/<service>/<version>/<path>`,
 * the hostname form `/<host.with.dots>/<path>` (always https) and the legacy root
 * `https://taskcluster.net`. Percent-encoding and the query pass through byte for byte.
 */

export interface Target {
  protocol: 'http:' | 'https:';
  hostname: string;
  port: number;
  /** The Host header value: hostname, plus `:port` when not the protocol's default. */
  host: string;
  /** Raw path (starting with `/`) exactly as it will be sent. */
  path: string;
  /** Raw query without `?`, or undefined when the request had none. */
  query?: string;
  /** The full URL, for headers and logs. */
  href: string;
}

export type Route = { kind: 'proxy'; target: Target } | { kind: 'invalid'; reason: string };

const LABEL = '[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?';
const DNS_NAME = new RegExp(`^${LABEL}(?:\\.${LABEL})*$`);
const SEGMENT = new RegExp(`^${LABEL}$`);
const LEGACY_ROOT = 'https://taskcluster.net';

function splitTarget(rawTarget: string): { path: string; query?: string } {
  const q = rawTarget.indexOf('?');
  return q < 0 ? { path: rawTarget } : { path: rawTarget.slice(0, q), query: rawTarget.slice(q + 1) };
}

/** Builds a Target from an absolute URL whose path and query are kept raw. */
export function targetFromParts(origin: string, path: string, query: string | undefined): Target {
  const url = new URL(origin);
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new Error(`unsupported protocol ${url.protocol}`);
  const protocol = url.protocol;
  const port = url.port ? Number(url.port) : protocol === 'https:' ? 443 : 80;
  const rawPath = path.startsWith('/') ? path : `/${path}`;
  const href = `${url.protocol}//${url.host}${rawPath}${query === undefined ? '' : `?${query}`}`;
  return {
    protocol,
    hostname: url.hostname,
    port,
    host: url.host,
    path: rawPath,
    ...(query === undefined ? {} : { query }),
    href,
  };
}

/** taskcluster-lib-urls' `api()` with the legacy branch the proxy used 2018–2020. */
export function apiTarget(
  rootUrl: string,
  service: string,
  version: string,
  path: string,
  query?: string,
): Target {
  const root = rootUrl.replace(/\/+$/, '');
  const rest = path.replace(/^\//, '');
  if (root === LEGACY_ROOT)
    return targetFromParts(`https://${service}.taskcluster.net`, `/${version}/${rest}`, query);
  const url = new URL(root);
  const prefix = url.pathname.replace(/\/+$/, '');
  return targetFromParts(url.origin, `${prefix}/api/${service}/${version}/${rest}`, query);
}

/** Where a proxied request goes, or why it cannot go anywhere (answered with 404). */
export function mapRequest(rawTarget: string, rootUrl: string): Route {
  if (!rawTarget.startsWith('/'))
    return {
      kind: 'invalid',
      reason: `invalid request target ${JSON.stringify(rawTarget)}: expected a path`,
    };
  const { path, query } = splitTarget(rawTarget);
  if (path === '/api' || path.startsWith('/api/')) {
    const m = /^\/api\/([^/]+)\/([^/]+)\/(.*)$/.exec(path);
    if (!m || !SEGMENT.test(m[1] as string) || !SEGMENT.test(m[2] as string)) {
      return { kind: 'invalid', reason: 'invalid /api path: expected /api/<service>/<version>/<path>' };
    }
    return {
      kind: 'proxy',
      target: apiTarget(rootUrl, m[1] as string, m[2] as string, m[3] as string, query),
    };
  }
  const [, service = '', ...rest] = path.split('/');
  if (!DNS_NAME.test(service)) {
    return {
      kind: 'invalid',
      reason: `Unknown taskcluster service: ${JSON.stringify(service)} is not a valid taskcluster service (use /<service>/<version>/<path>)`,
    };
  }
  if (service.includes('.'))
    return { kind: 'proxy', target: targetFromParts(`https://${service}`, `/${rest.join('/')}`, query) };
  const [version, ...pathParts] = rest;
  if (version === undefined || !SEGMENT.test(version)) {
    return {
      kind: 'invalid',
      reason: `invalid path for service ${service}: expected /${service}/<version>/<path>`,
    };
  }
  return { kind: 'proxy', target: apiTarget(rootUrl, service, version, pathParts.join('/'), query) };
}
