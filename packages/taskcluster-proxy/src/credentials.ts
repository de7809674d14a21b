/**
 * @module credentials
 * The proxy's current Taskcluster credentials, replaced atomically by `PUT /credentials`: each
 * request takes a snapshot when it starts and signs every attempt with it, so requests in flight
 * finish with the credentials they started with.
 */

/** As they travel (env, CLI, `/credentials` body): the certificate is a JSON string. */
export interface CredentialsInput {
  clientId: string;
  accessToken: string;
  certificate?: string | Record<string, unknown> | null;
}

export interface Credentials {
  readonly clientId: string;
  readonly accessToken: string;
  /** The parsed certificate of temporary credentials. */
  readonly certificate?: Readonly<Record<string, unknown>>;
}

export class CredentialsError extends Error {}

/** Validates and parses credentials; throws `CredentialsError` with a one-line reason. */
export function parseCredentials(input: unknown): Credentials {
  if (typeof input !== 'object' || input === null)
    throw new CredentialsError('credentials must be a JSON object {clientId, accessToken, certificate?}');
  const { clientId, accessToken, certificate } = input as Record<string, unknown>;
  if (typeof clientId !== 'string' || clientId === '')
    throw new CredentialsError('clientId must be a non-empty string');
  if (typeof accessToken !== 'string' || accessToken === '')
    throw new CredentialsError('accessToken must be a non-empty string');
  if (certificate === undefined || certificate === null || certificate === '')
    return Object.freeze({ clientId, accessToken });
  let cert: unknown = certificate;
  if (typeof certificate === 'string') {
    try {
      cert = JSON.parse(certificate);
    } catch {
      throw new CredentialsError(
        'certificate is not valid JSON (it must be the certificate JSON string of temporary credentials)',
      );
    }
  }
  if (typeof cert !== 'object' || cert === null || Array.isArray(cert))
    throw new CredentialsError('certificate must be a JSON object');
  return Object.freeze({
    clientId,
    accessToken,
    certificate: Object.freeze({ ...(cert as Record<string, unknown>) }),
  });
}

export class CredentialStore {
  private value: Credentials;

  constructor(initial: Credentials) {
    this.value = initial;
  }

  /** The credentials now; keep the returned object for the whole request. */
  get current(): Credentials {
    return this.value;
  }

  replace(next: Credentials): void {
    this.value = next;
  }
}

/** The certificate's scopes, when the certificate carries a valid list. */
export function certificateScopes(creds: Credentials): string[] | undefined {
  const scopes = creds.certificate?.scopes;
  return Array.isArray(scopes) && scopes.every((s) => typeof s === 'string') ? scopes : undefined;
}
