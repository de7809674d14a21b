/**
 * @module worker/s3-put
 * `PUT <putUrl>` of a file for an `s3` artifact: exactly the content type that was signed, a
 * Content-Length (S3 refuses chunked uploads), optional Content-Encoding. 2xx is success; the
 * error of any other answer carries `statusCode`, so the retry policy can tell 5xx from 4xx.
 */
import { createReadStream } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

const TIMEOUT_MS = 5 * 60_000;

export class HttpStatusError extends Error {
  override readonly name = 'HttpStatusError';
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
  }
}

export function putFile(
  url: string,
  file: string,
  headers: { contentType: string; contentLength: number; contentEncoding?: string },
): Promise<void> {
  const target = new URL(url);
  const request = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(target, {
      method: 'PUT',
      timeout: TIMEOUT_MS,
      headers: {
        'content-type': headers.contentType,
        'content-length': String(headers.contentLength),
        ...(headers.contentEncoding ? { 'content-encoding': headers.contentEncoding } : {}),
      },
    });
    req.once('timeout', () =>
      req.destroy(Object.assign(new Error('upload timed out'), { code: 'ETIMEDOUT' })),
    );
    req.once('error', reject);
    req.once('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.length < 16 && chunks.push(c));
      res.once('end', () => {
        const status = res.statusCode ?? 0;
        if (status >= 200 && status < 300) return resolve();
        const body = Buffer.concat(chunks).toString('utf8').slice(0, 300);
        reject(
          new HttpStatusError(status, `PUT ${target.host}${target.pathname} answered ${status}: ${body}`),
        );
      });
      res.once('error', reject);
    });
    const body = createReadStream(file);
    body.once('error', (err) => req.destroy(err));
    body.pipe(req);
  });
}
