/**
 * @module signing
 * Hawk signing as Taskcluster clients do it (PROTOCOLS.md §1.2–§1.8): sha256, a fresh ts/nonce per
 * header, `ext = base64(JSON{certificate?, authorizedScopes?})`, omitted when empty. The MAC covers
 * the exact raw path and query the upstream receives and the target's host and port.
 */
import hawk from 'hawk';
import type { Credentials } from './credentials.js';
import type { Target } from './routing.js';

/** The ext attribute, or undefined when there is neither a certificate nor authorizedScopes. */
export function ext(creds: Credentials, authorizedScopes: readonly string[] | undefined): string | undefined {
  const value: Record<string, unknown> = {};
  if (creds.certificate) value.certificate = creds.certificate;
  if (authorizedScopes) value.authorizedScopes = authorizedScopes;
  return Object.keys(value).length === 0 ? undefined : Buffer.from(JSON.stringify(value)).toString('base64');
}

function hawkCredentials(creds: Credentials) {
  return { id: creds.clientId, key: creds.accessToken, algorithm: 'sha256' as const };
}

function uri(target: Target) {
  return {
    protocol: target.protocol,
    hostname: target.hostname,
    port: target.port,
    pathname: target.path,
    search: target.query === undefined ? '' : `?${target.query}`,
  };
}

/** A fresh `Authorization: Hawk ...` header for one attempt of one request. */
export function authorizationHeader(
  target: Target,
  method: string,
  creds: Credentials,
  authorizedScopes: readonly string[] | undefined,
): string {
  const e = ext(creds, authorizedScopes);
  return hawk.client.header(uri(target), method.toUpperCase(), {
    credentials: hawkCredentials(creds),
    ...(e ? { ext: e } : {}),
  }).header;
}

/** `target.href` with `bewit=` appended last (so the server can strip it), valid for `ttlSec`. */
export function signedUrl(
  target: Target,
  creds: Credentials,
  authorizedScopes: readonly string[] | undefined,
  ttlSec: number,
  fragment = '',
): string {
  const e = ext(creds, authorizedScopes);
  const bewit = hawk.client.getBewit(uri(target), {
    credentials: hawkCredentials(creds),
    ttlSec,
    ...(e ? { ext: e } : {}),
  });
  return `${target.href}${target.query === undefined ? '?' : '&'}bewit=${bewit}${fragment}`;
}
