/**
 * @module auth/issue-credentials
 * Named temporary credentials as `taskcluster.createTemporaryCredentials` makes them: a version-1
 * certificate signed by the issuer's permanent token, checked by `auth/certificate.ts` like any other.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { certificateSignatureString, temporaryAccessToken } from './certificate.js';
import type { Certificate } from './certificate.js';

export interface IssuerCredentials {
  clientId: string;
  accessToken: string;
}

export interface TemporaryCredentials {
  clientId: string;
  accessToken: string;
  /** The certificate as a JSON string, as Taskcluster services return it. */
  certificate: string;
}

export interface IssueOptions {
  issuer: IssuerCredentials;
  clientId: string;
  scopes: readonly string[];
  start: number;
  expiry: number;
}

export function issueTemporaryCredentials(o: IssueOptions): TemporaryCredentials {
  const seed = randomBytes(33).toString('base64url');
  const cert: Certificate = {
    version: 1,
    scopes: [...o.scopes],
    start: o.start,
    expiry: o.expiry,
    seed,
    signature: '',
    issuer: o.issuer.clientId,
  };
  cert.signature = createHmac('sha256', o.issuer.accessToken)
    .update(certificateSignatureString(cert, o.clientId))
    .digest('base64');
  return {
    clientId: o.clientId,
    accessToken: temporaryAccessToken(o.issuer.accessToken, seed),
    certificate: JSON.stringify(cert),
  };
}
