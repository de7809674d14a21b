/**
 * @module routes/storage
 * The fake storage backend (S3 stand-in) behind pre-signed URLs: PUT checks the signature (which
 * covers Content-Type and, for object uploads, Content-Length), requires a Content-Length (no
 * chunked uploads: 411 MissingContentLength) and streams the body to disk; GET serves the bytes
 * with the stored Content-Type and Content-Encoding. Errors are S3-style XML.
 */
import { Router } from 'express';
import type { ErrorRequestHandler } from 'express';
import { pipeline } from 'node:stream/promises';
import { HttpError } from '../errors.js';
import type { RouteContext } from './context.js';

const xmlError: ErrorRequestHandler = (err: unknown, _req, res, next) => {
  if (!(err instanceof HttpError)) return next(err);
  if (res.headersSent) return void res.destroy();
  res
    .status(err.status)
    .type('application/xml')
    .send(
      `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${err.code}</Code><Message>${err.message}</Message></Error>`,
    );
};

export function storageRoutes({ blobs, signer, now }: RouteContext): Router {
  const router = Router();

  router.put('/:key', async (req, res) => {
    const key = String(req.params.key);
    signer.verify('PUT', key, req.query, req.headers, now());
    const length = req.headers['content-length'];
    if (req.headers['transfer-encoding'] !== undefined || length === undefined)
      throw new HttpError(411, 'You must provide the Content-Length HTTP header.', 'MissingContentLength');
    const encoding = req.headers['content-encoding'];
    const blob = await blobs.write(
      key,
      req,
      {
        contentType: req.headers['content-type'] ?? 'binary/octet-stream',
        ...(encoding && encoding !== 'identity' ? { contentEncoding: encoding } : {}),
      },
      Number(length),
    );
    res.setHeader('etag', `"${blob.sha256.slice(0, 32)}"`);
    res.status(200).end();
  });

  router.get('/:key', async (req, res) => {
    const key = String(req.params.key);
    signer.verify('GET', key, req.query, req.headers, now());
    const blob = blobs.get(key);
    if (!blob) throw new HttpError(404, 'The specified key does not exist.', 'NoSuchKey');
    res.writeHead(200, {
      'content-type': blob.contentType,
      'content-length': String(blob.length),
      ...(blob.contentEncoding ? { 'content-encoding': blob.contentEncoding } : {}),
    });
    // a reader that goes away early is not a server error
    await pipeline(blobs.open(key), res).catch(() => res.destroy());
  });

  router.use(xmlError);
  return router;
}
