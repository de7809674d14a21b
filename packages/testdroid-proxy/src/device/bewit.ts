/**
 * @module device/bewit
 * Signs a build URL as a Taskcluster bewit (PROTOCOLS.md §1.8) so that a phone being flashed can
 * download a private artifact: sha256, the worker's credentials, and for temporary credentials the
 * certificate (as a JSON object) in the bewit's ext. The bewit is appended last.
 */
import hawk from 'hawk';

export interface TaskclusterCredentials {
  clientId: string;
  accessToken: string;
  /** JSON string, present for temporary credentials. */
  certificate?: string;
}

export function signUrl(
  url: string,
  credentials: TaskclusterCredentials,
  ttlSec: number,
  nowMs: number,
): string {
  let ext: string | undefined;
  if (credentials.certificate) {
    let certificate: unknown;
    try {
      certificate = JSON.parse(credentials.certificate);
    } catch {
      throw new Error(
        'The Taskcluster certificate is not valid JSON; pass the certificate exactly as issued',
      );
    }
    ext = Buffer.from(JSON.stringify({ certificate }), 'utf8').toString('base64');
  }
  const hashAt = url.indexOf('#');
  const base = hashAt === -1 ? url : url.slice(0, hashAt);
  const bewit = hawk.uri.getBewit(base, {
    credentials: { id: credentials.clientId, key: credentials.accessToken, algorithm: 'sha256' },
    ttlSec,
    ext,
    localtimeOffsetMsec: nowMs - Date.now(),
  });
  return `${base}${base.includes('?') ? '&' : '?'}bewit=${bewit}`;
}
