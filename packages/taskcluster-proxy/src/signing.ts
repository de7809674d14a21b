/**
 * @module signing
 * Hawk signing as Taskcluster clients do it (PROTOCOLS.md §1.2–§1.8): sha256, a fresh ts/nonce per
 * header, `ext = base64(JSON{certificate?, authorizedScopes?})`, omitted when empty. The MAC covers
 * the exact raw path and query the upstream receives and the target's host and port.
 */
import { randomFillSync } from 'node:crypto';
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

interface Signer {
  scopes: readonly string[] | undefined;
  credentials: { id: string; key: string; algorithm: 'sha256' };
  ext: string | undefined;
}

/**
 * The Hawk credentials and ext of one credentials snapshot (they are replaced, never changed) and
 * one authorizedScopes array, made once instead of once per request.
 */
const signers = new WeakMap<Credentials, Signer>();

function signer(creds: Credentials, authorizedScopes: readonly string[] | undefined): Signer {
  const known = signers.get(creds);
  if (known && known.scopes === authorizedScopes) return known;
  const made: Signer = {
    scopes: authorizedScopes,
    credentials: { id: creds.clientId, key: creds.accessToken, algorithm: 'sha256' },
    ext: ext(creds, authorizedScopes),
  };
  signers.set(creds, made);
  return made;
}

/**
 * A 6-character nonce as hawk makes it (cryptiles.randomString(6): 6 random bytes, base64url, the
 * first 6 characters), cut from a pool filled by the CSPRNG 1024 nonces at a time rather than by a
 * randomBytes call per header.
 */
const NONCE_BYTES = 6;
const pool = Buffer.alloc(NONCE_BYTES * 1024);
let poolOffset = pool.length;

export function nonce(): string {
  if (poolOffset === pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const bytes = pool.subarray(poolOffset, poolOffset + NONCE_BYTES);
  poolOffset += NONCE_BYTES;
  return bytes.toString('base64url').slice(0, 6);
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
  const { credentials, ext: e } = signer(creds, authorizedScopes);
  return hawk.client.header(uri(target), method.toUpperCase(), {
    credentials,
    nonce: nonce(),
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
  const { credentials, ext: e } = signer(creds, authorizedScopes);
  const bewit = hawk.client.getBewit(uri(target), {
    credentials,
    ttlSec,
    ...(e ? { ext: e } : {}),
  });
  return `${target.href}${target.query === undefined ? '?' : '&'}bewit=${bewit}${fragment}`;
}
