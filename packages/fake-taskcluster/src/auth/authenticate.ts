/**
 * @module auth/authenticate
 * Authenticates one request the way Taskcluster's auth service does (PROTOCOLS.md §1.10, §1.13):
 * Hawk header or bewit, ext (certificate, authorizedScopes), effective scopes with roles expanded.
 * The MAC is checked by the `hawk` library over the raw request-target and the Host header.
 */
import type { IncomingHttpHeaders } from 'node:http';
import hawk from 'hawk';
import { satisfiesExpression } from 'taskcluster-lib-scopes';
import type { ClientStore } from '../clients.js';
import { HttpError } from '../errors.js';
import { AuthFailure, temporaryAccessToken, verifyCertificate } from './certificate.js';
import { allValidScopes } from './scopes.js';

export type AuthScheme = 'hawk' | 'bewit' | 'none';

export interface AuthResult {
  scheme: AuthScheme;
  /** The Hawk id (absent for anonymous requests). */
  clientId?: string;
  /** Effective scopes: expand(scopes ∪ {assume:anonymous}), normalised. */
  scopes: string[];
  expires?: Date;
  /** The signed payload hash, when the client sent one. */
  hash?: string;
}

export interface AuthRequest {
  method: string;
  /** The raw request-target (path + query) exactly as received. */
  url: string;
  headers: IncomingHttpHeaders;
}

interface Resolved {
  id: string;
  key: string;
  algorithm: 'sha256';
  scopes: string[];
  expires?: Date;
}

const SKEW_SECONDS = 15 * 60;
const BEWIT = /^(\/.*)([?&])bewit=([^&$]*)(?:&(.+))?$/;
const ANONYMOUS = 'assume:anonymous';

function fail(message: string): never {
  throw new AuthFailure(message);
}

function parseExt(ext: string | undefined): Record<string, unknown> {
  if (!ext) return {};
  try {
    const parsed: unknown = JSON.parse(Buffer.from(ext, 'base64').toString('utf8'));
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed))
      return parsed as Record<string, unknown>;
  } catch {
    // reported below
  }
  return fail('Failed to parse ext');
}

/** Host and port as the API service derives them (§1.3): Host header, X-Forwarded-Port/Proto. */
export function hostAndPort(headers: IncomingHttpHeaders): { host: string; port: number } {
  const header = headers.host;
  if (!header) fail('Missing Host header');
  let url: URL;
  try {
    url = new URL(`http://${header}`);
  } catch {
    return fail('Invalid Host header');
  }
  const forwardedPort = String(headers['x-forwarded-port'] ?? '')
    .split(',')[0]
    ?.trim();
  const proto = String(headers['x-forwarded-proto'] ?? '')
    .split(',')[0]
    ?.trim();
  const port = forwardedPort
    ? Number(forwardedPort)
    : proto === 'https'
      ? 443
      : url.port
        ? Number(url.port)
        : 80;
  return { host: url.hostname, port };
}

export function createAuthenticator(store: ClientStore, now: () => number) {
  function resolve(id: string, extB64: string | undefined): Resolved {
    const ext = parseExt(extB64);
    const cert = ext.certificate;
    let issuerId = id;
    if (cert && typeof cert === 'object' && 'issuer' in cert) {
      const issuer = (cert as { issuer: unknown }).issuer;
      if (typeof issuer !== 'string') fail('ext.certificate.issuer must be a string');
      if (issuer === id) fail('ext.certificate.issuer must differ from the supplied clientId');
      issuerId = issuer;
    }
    const client = store.client(issuerId);
    if (!client) fail(`Client \`${issuerId}\` not found`);
    if (client.disabled) fail(`Client \`${issuerId}\` is disabled`);
    if (client.expires && client.expires.getTime() < now()) fail(`Client \`${issuerId}\` has expired`);
    let key = client.accessToken;
    let scopes = store.expand(client.scopes);
    let expires = client.expires;
    if (cert) {
      const verified = verifyCertificate(cert, {
        id,
        issuerId,
        issuerToken: client.accessToken,
        issuerScopes: scopes,
        now: now(),
      });
      key = temporaryAccessToken(client.accessToken, verified.seed);
      scopes = verified.scopes;
      const certExpiry = new Date(verified.expiry);
      expires = expires && expires < certExpiry ? expires : certExpiry;
    }
    const authorized = ext.authorizedScopes;
    if (authorized) {
      if (!allValidScopes(authorized)) fail('ext.authorizedScopes must be an array of valid scopes');
      const held = store.expand([...scopes, ANONYMOUS]);
      if (!satisfiesExpression(held, { AllOf: authorized })) {
        fail(
          `Supplied credentials do not satisfy authorizedScopes; credentials have scopes:\n\n\`\`\`\n${JSON.stringify(held)}\n\`\`\`\n\n` +
            `authorizedScopes are:\n\n\`\`\`\n${JSON.stringify(authorized)}\n\`\`\``,
        );
      }
      scopes = authorized;
    }
    return {
      id,
      key,
      algorithm: 'sha256',
      scopes: store.expand([...scopes, ANONYMOUS]),
      ...(expires ? { expires } : {}),
    };
  }

  return async function authenticate(req: AuthRequest): Promise<AuthResult> {
    const authorization = req.headers.authorization;
    const bewit = BEWIT.exec(req.url);
    try {
      if (authorization && bewit) fail('Cannot use two authentication schemes at once');
      if (!authorization && !bewit) return { scheme: 'none', scopes: store.expand([ANONYMOUS]) };
      const { host, port } = hostAndPort(req.headers);
      const options = { timestampSkewSec: SKEW_SECONDS, localtimeOffsetMsec: now() - Date.now() };
      const request = {
        method: req.method,
        url: req.url,
        host,
        port,
        ...(authorization ? { authorization } : {}),
      };
      if (authorization) {
        const ext = () => hawk.utils.parseAuthorizationHeader(authorization).ext;
        const { credentials, artifacts } = await hawk.server.authenticate(
          request,
          async (id) => resolve(id, ext()),
          options,
        );
        return {
          scheme: 'hawk',
          clientId: credentials.id,
          scopes: credentials.scopes,
          ...expiresOf(credentials),
          ...(artifacts.hash ? { hash: artifacts.hash } : {}),
        };
      }
      if (req.method !== 'GET' && req.method !== 'HEAD')
        fail('Bewit is only valid for GET and HEAD requests');
      const ext = () => bewitExt(bewit?.[3] ?? '');
      const { credentials } = await hawk.server.authenticateBewit(
        request,
        async (id) => resolve(id, ext()),
        options,
      );
      return {
        scheme: 'bewit',
        clientId: credentials.id,
        scopes: credentials.scopes,
        ...expiresOf(credentials),
      };
    } catch (err) {
      throw new HttpError(401, (err as Error).message || 'Unauthorized', 'AuthenticationFailed');
    }
  };
}

function expiresOf(c: Resolved): { expires?: Date } {
  return c.expires ? { expires: c.expires } : {};
}

function bewitExt(encoded: string): string {
  if (!/^[\w-]*$/.test(encoded)) fail('Invalid bewit encoding');
  return Buffer.from(encoded, 'base64url').toString('utf8').split('\\')[3] ?? '';
}
