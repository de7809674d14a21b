/**
 * @module device/bewit
 * Signs a build URL as a Taskcluster bewit (PROTOCOLS.md §1.8) so that a phone being flashed can
 * download a private artifact: sha256, the worker's credentials restricted to the task's scopes
 * (`authorizedScopes` in the bewit's ext, §1.7), and for temporary credentials the certificate.
 * The build URL is chosen by the task, so the bewit must never carry more than the task holds:
 * the ext always has `authorizedScopes` (`[]` leaves only the anonymous role). Appended last.
 */
import hawk from 'hawk';

export interface TaskclusterCredentials {
  clientId: string;
  accessToken: string;
  /** JSON string, present for temporary credentials. */
  certificate?: string;
}

/** The credentials that sign build URLs, and the task scopes every signature is restricted to. */
export interface SigningCredentials extends TaskclusterCredentials {
  authorizedScopes: readonly string[];
}

export function signUrl(url: string, credentials: SigningCredentials, ttlSec: number, nowMs: number): string {
  const ext: { certificate?: unknown; authorizedScopes: readonly string[] } = {
    authorizedScopes: [...credentials.authorizedScopes],
  };
  if (credentials.certificate) {
    try {
      ext.certificate = JSON.parse(credentials.certificate);
    } catch {
      throw new Error(
        'The Taskcluster certificate is not valid JSON; pass the certificate exactly as issued',
      );
    }
  }
  const hashAt = url.indexOf('#');
  const base = hashAt === -1 ? url : url.slice(0, hashAt);
  const bewit = hawk.client.getBewit(base, {
    credentials: { id: credentials.clientId, key: credentials.accessToken, algorithm: 'sha256' },
    ttlSec,
    ext: Buffer.from(JSON.stringify(ext), 'utf8').toString('base64'),
    localtimeOffsetMsec: nowMs - Date.now(),
  });
  return `${base}${base.includes('?') ? '&' : '?'}bewit=${bewit}`;
}
