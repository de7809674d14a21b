/**
 * @module auth/certificate
 * Temporary-credential certificates, checked in the auth service's order (PROTOCOLS.md §1.6,
 * §1.10 step 5). A failure throws `AuthFailure` with the reason Taskcluster gives.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { satisfiesExpression } from 'taskcluster-lib-scopes';
import { allValidScopes } from './scopes.js';

export class AuthFailure extends Error {}

const FIVE_MINUTES = 5 * 60 * 1000;
const THIRTY_ONE_DAYS = 31 * 24 * 60 * 60 * 1000;

export interface Certificate {
  version: 1;
  scopes: string[];
  start: number;
  expiry: number;
  seed: string;
  signature: string;
  issuer?: string;
}

export interface CertificateContext {
  /** The Hawk header's (or bewit's) id. */
  id: string;
  /** The issuing client's id (`cert.issuer`, else `id`). */
  issuerId: string;
  /** The issuing client's permanent access token. */
  issuerToken: string;
  /** The issuing client's role-expanded scopes. */
  issuerScopes: string[];
  now: number;
}

/** The string the issuer signs: lines joined with "\n", no trailing newline. */
export function certificateSignatureString(cert: Certificate, clientId: string): string {
  const lines = [`version:${cert.version}`];
  if (typeof cert.issuer === 'string') lines.push(`clientId:${clientId}`, `issuer:${cert.issuer}`);
  lines.push(`seed:${cert.seed}`, `start:${cert.start}`, `expiry:${cert.expiry}`, 'scopes:', ...cert.scopes);
  return lines.join('\n');
}

/** base64url(HMAC-SHA256(issuer token, seed)) without padding: the temporary Hawk key. */
export function temporaryAccessToken(issuerToken: string, seed: string): string {
  return createHmac('sha256', issuerToken).update(seed).digest('base64url');
}

function fail(message: string): never {
  throw new AuthFailure(message);
}

/** Validates `cert` and returns it typed; the caller then signs with `temporaryAccessToken`. */
export function verifyCertificate(raw: unknown, ctx: CertificateContext): Certificate {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    fail('ext.certificate must be a JSON object');
  const cert = raw as Record<string, unknown>;
  if (cert.version !== 1) fail('ext.certificate.version must be 1');
  if (typeof cert.seed !== 'string') fail('ext.certificate.seed must be a string');
  if (cert.seed.length !== 44) fail('ext.certificate.seed must be 44 characters');
  if (typeof cert.start !== 'number') fail('ext.certificate.start must be a number');
  if (typeof cert.expiry !== 'number') fail('ext.certificate.expiry must be a number');
  if (!Array.isArray(cert.scopes)) fail('ext.certificate.scopes must be an array');
  if (!allValidScopes(cert.scopes)) fail('ext.certificate.scopes must be an array of valid scopes');
  if (cert.start > ctx.now + FIVE_MINUTES) fail('ext.certificate.start > now');
  if (cert.expiry < ctx.now - FIVE_MINUTES) fail('ext.certificate.expiry < now');
  if (cert.expiry - cert.start > THIRTY_ONE_DAYS) fail('ext.certificate cannot last longer than 31 days!');
  if (typeof cert.issuer === 'string') {
    const needed = `auth:create-client:${ctx.id}`;
    if (!satisfiesExpression(ctx.issuerScopes, needed)) {
      fail(`ext.certificate issuer \`${cert.issuer}\` doesn't have \`${needed}\` for supplied clientId.`);
    }
  } else if ('clientId' in cert) {
    fail('ext.certificate.clientId must only be used with ext.certificate.issuer');
  }
  if (!satisfiesExpression(ctx.issuerScopes, { AllOf: cert.scopes })) {
    fail(
      `ext.certificate issuer \`${ctx.issuerId}\` doesn't satisfiy all certificate scopes ${cert.scopes.join(', ')}.`,
    );
  }
  if (typeof cert.signature !== 'string') fail('ext.certificate.signature is not valid');
  const typed = cert as unknown as Certificate;
  const expected = Buffer.from(
    createHmac('sha256', ctx.issuerToken).update(certificateSignatureString(typed, ctx.id)).digest('base64'),
  );
  const given = Buffer.from(cert.signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given))
    fail('ext.certificate.signature is not valid');
  return typed;
}
