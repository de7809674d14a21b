/**
 * @module storage/signed-url
 * Pre-signed URLs for the fake storage endpoint, S3-style: the signature covers the method, the
 * key, the expiry and the values of the signed headers, so a PUT with another Content-Type (or,
 * when signed, Content-Length) than was signed answers 403 SignatureDoesNotMatch.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { HttpError } from '../errors.js';

export const STORAGE_PREFIX = '/fake-storage/v1/';

/** `http://<Host header>`: signed URLs point where the caller reached us (also via a Docker gateway). */
export function baseUrl(headers: IncomingHttpHeaders): string {
  return `http://${headers.host ?? '127.0.0.1'}`;
}

export interface SignOptions {
  method: 'GET' | 'PUT';
  key: string;
  expires: number;
  /** Header name → the value the request must carry. */
  headers?: Record<string, string>;
}

export class UrlSigner {
  private readonly secret = randomBytes(32);

  private mac(
    method: string,
    key: string,
    expires: string,
    signed: string[],
    headers: IncomingHttpHeaders,
  ): string {
    const lines = [method, key, expires, ...signed.map((h) => `${h}:${String(headers[h] ?? '')}`)];
    return createHmac('sha256', this.secret).update(lines.join('\n')).digest('base64url');
  }

  /** The path and query (append to the base URL the caller reached us on). */
  sign(o: SignOptions): string {
    const headers = Object.fromEntries(Object.entries(o.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
    const signed = Object.keys(headers).sort();
    const expires = String(Math.floor(o.expires / 1000));
    const query = new URLSearchParams({
      'X-Expires': expires,
      'X-SignedHeaders': signed.join(';'),
      'X-Signature': this.mac(o.method, o.key, expires, signed, headers),
    });
    return `${STORAGE_PREFIX}${encodeURIComponent(o.key)}?${query.toString()}`;
  }

  /** Throws 403 unless the request matches a signature made by `sign` and is not expired. */
  verify(
    method: string,
    key: string,
    query: Record<string, unknown>,
    headers: IncomingHttpHeaders,
    now: number,
  ): void {
    const expires = String(query['X-Expires'] ?? '');
    const signed = String(query['X-SignedHeaders'] ?? '')
      .split(';')
      .filter((h) => h !== '');
    const given = Buffer.from(String(query['X-Signature'] ?? ''));
    const expected = Buffer.from(this.mac(method, key, expires, signed, headers));
    if (given.length !== expected.length || !timingSafeEqual(given, expected))
      throw new HttpError(
        403,
        'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
        'SignatureDoesNotMatch',
      );
    if (Number(expires) * 1000 < now) throw new HttpError(403, 'Request has expired', 'AccessDenied');
  }
}
