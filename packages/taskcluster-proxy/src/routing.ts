/**
 * @module routing
 * Maps a task's raw request-target to the Taskcluster URL it means (PROTOCOLS.md §4.2): the
 * root-URL form `/api/<service>/<version>/<path>`, the shortcut `/<service>/<version>/<path>`,
 * the hostname form `/<host.with.dots>/<path>` and the legacy root `https://taskcluster.net`.
 * Percent-encoding and the query pass through byte for byte.
 *
 * The hostname form reaches only Taskcluster: the root URL's host (at the root URL's scheme and
 * port) and the legacy service hosts `<service>.taskcluster.net` (https). Any other host, an IP
 * literal or anything with userinfo or a port is refused (400): the proxy signs what it forwards
 * with the task's credentials, so it must not be a signed forwarder to anywhere.
 */
import { api } from 'taskcluster-lib-urls';

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

/** `invalid`: no such Taskcluster path (404); `refused`: a host the proxy does not forward to (400). */
export type Route =
  | { kind: 'proxy'; target: Target }
  | { kind: 'invalid'; reason: string }
  | { kind: 'refused'; reason: string };

const LABEL = '[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?';
const DNS_NAME = new RegExp(`^${LABEL}(?:\\.${LABEL})*$`);
const SEGMENT = new RegExp(`^${LABEL}$`);
const LEGACY_ROOT = 'https://taskcluster.net';
const LEGACY_SERVICE_HOST = new RegExp(`^${LABEL}\\.taskcluster\\.net$`, 'i');
/** A first segment that names a host (or tries to, with a port, userinfo or an IPv6 literal). */
const HOST_LIKE = /[.:@[\]%]/;

function splitTarget(rawTarget: string): { path: string; query?: string } {
  const q = rawTarget.indexOf('?');
  return q < 0 ? { path: rawTarget } : { path: rawTarget.slice(0, q), query: rawTarget.slice(q + 1) };
}

type Origin = Pick<Target, 'protocol' | 'hostname' | 'port' | 'host'>;

/**
 * Parsed origins, so a request does not parse its origin again: the root URL's and the legacy
 * service hosts a task uses (bounded: cleared when it would pass 64 entries).
 */
const origins = new Map<string, Origin>();

function parseOrigin(origin: string): Origin {
  const known = origins.get(origin);
  if (known) return known;
  const url = new URL(origin);
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new Error(`unsupported protocol ${url.protocol}`);
  const protocol = url.protocol;
  const port = url.port ? Number(url.port) : protocol === 'https:' ? 443 : 80;
  const parsed: Origin = { protocol, hostname: url.hostname, port, host: url.host };
  if (origins.size >= 64) origins.clear();
  origins.set(origin, parsed);
  return parsed;
}

/** Builds a Target from an absolute URL whose path and query are kept raw. */
export function targetFromParts(origin: string, path: string, query: string | undefined): Target {
  const { protocol, hostname, port, host } = parseOrigin(origin);
  const rawPath = path.startsWith('/') ? path : `/${path}`;
  const href = `${protocol}//${host}${rawPath}${query === undefined ? '' : `?${query}`}`;
  return {
    protocol,
    hostname,
    port,
    host,
    path: rawPath,
    ...(query === undefined ? {} : { query }),
    href,
  };
}

/** The root URL as `apiTarget` needs it, parsed once per root URL. */
const roots = new Map<string, { legacy: boolean; origin: string; pathname: string }>();

function parseRoot(rootUrl: string) {
  let root = roots.get(rootUrl);
  if (!root) {
    const { origin, pathname } = new URL(rootUrl);
    root = { legacy: rootUrl.replace(/\/+$/, '') === LEGACY_ROOT, origin, pathname };
    if (roots.size >= 64) roots.clear();
    roots.set(rootUrl, root);
  }
  return root;
}

/** taskcluster-lib-urls' `api()`, plus the legacy branch the proxy used 2018–2020 (lib-urls 13 dropped it). */
export function apiTarget(
  rootUrl: string,
  service: string,
  version: string,
  path: string,
  query?: string,
): Target {
  const { legacy, origin, pathname } = parseRoot(rootUrl);
  if (legacy)
    return targetFromParts(
      `https://${service}.taskcluster.net`,
      `/${version}/${path.replace(/^\/+/, '')}`,
      query,
    );
  // lib-urls joins strings; given the origin as written by URL, the rest is the raw path.
  return targetFromParts(origin, api(origin + pathname, service, version, path).slice(origin.length), query);
}

/**
 * The hostname form `/<host>/<path>`: only the root URL's host (at the root URL's origin) and the
 * legacy `<service>.taskcluster.net` hosts (https), compared exactly, case-insensitively.
 */
function hostTarget(host: string, path: string, query: string | undefined, rootUrl: string): Route {
  const root = new URL(rootUrl);
  const name = host.toLowerCase();
  if (DNS_NAME.test(host) && name === root.hostname)
    return { kind: 'proxy', target: targetFromParts(root.origin, path, query) };
  if (LEGACY_SERVICE_HOST.test(host))
    return { kind: 'proxy', target: targetFromParts(`https://${name}`, path, query) };
  return {
    kind: 'refused',
    reason: `host ${JSON.stringify(host)} is not allowed: the proxy forwards only to the root URL's host (${root.hostname}) and the Taskcluster services <service>.taskcluster.net; use /<service>/<version>/<path>`,
  };
}

/** Where a proxied request goes, or why it cannot go anywhere (answered with 404 or 400). */
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
  if (HOST_LIKE.test(service)) return hostTarget(service, `/${rest.join('/')}`, query, rootUrl);
  if (!DNS_NAME.test(service)) {
    return {
      kind: 'invalid',
      reason: `Unknown taskcluster service: ${JSON.stringify(service)} is not a valid taskcluster service (use /<service>/<version>/<path>)`,
    };
  }
  const [version, ...pathParts] = rest;
  if (version === undefined || !SEGMENT.test(version)) {
    return {
      kind: 'invalid',
      reason: `invalid path for service ${service}: expected /${service}/<version>/<path>`,
    };
  }
  return { kind: 'proxy', target: apiTarget(rootUrl, service, version, pathParts.join('/'), query) };
}
