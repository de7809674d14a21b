/**
 * @module routes/fake
 * Fake-only endpoints for testing clients and proxies (not part of Taskcluster): who am I,
 * streaming upload/download of any size, a redirect, a route that fails N times, an echo.
 */
import { createHash } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { Writable } from 'node:stream';
import hawk from 'hawk';
import { Router } from 'express';
import { blobStream } from '../blob.js';
import { HttpError } from '../errors.js';
import { authOf } from '../auth/require-scopes.js';
import type { RouteContext } from './context.js';

const ANY = { AllOf: [] };
const MAX_DELAY_MS = 30_000;

function intParam(value: unknown, name: string, max: number): number {
  const n = Number(value ?? 0);
  if (!Number.isInteger(n) || n < 0 || n > max)
    throw new HttpError(400, `${name} must be an integer between 0 and ${max}`, 'InvalidRequestArguments');
  return n;
}

export function fakeRoutes({ endpoint }: RouteContext): Router {
  const router = Router();
  const failuresSeen = new Map<string, number>();

  router.get('/whoami', endpoint('whoami', ANY), async (req, res) => {
    const delayMs = intParam(req.query.delayMs, 'delayMs', MAX_DELAY_MS);
    if (delayMs > 0) await sleep(delayMs);
    const { clientId, scopes, scheme } = authOf(res);
    res.json({ clientId, scopes, scheme });
  });

  router.put('/blob', endpoint('putBlob', ANY), async (req, res) => {
    const auth = authOf(res);
    const sha = createHash('sha256');
    const payloadHash = auth.hash
      ? hawk.crypto.initializePayloadHash('sha256', req.headers['content-type'])
      : undefined;
    let bytes = 0;
    await pipeline(
      req,
      new Writable({
        write(chunk: Buffer, _enc, done) {
          bytes += chunk.length;
          sha.update(chunk);
          payloadHash?.update(chunk);
          done();
        },
      }),
    );
    if (payloadHash && hawk.crypto.finalizePayloadHash(payloadHash) !== auth.hash) {
      throw new HttpError(401, 'Invalid payload hash', 'AuthenticationFailed');
    }
    res.json({ bytes, sha256: sha.digest('hex'), clientId: auth.clientId });
  });

  router.get('/blob/:bytes', endpoint('getBlob', ANY), async (req, res) => {
    const bytes = intParam(req.params.bytes, 'bytes', 64 * 2 ** 30);
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(bytes) });
    await pipeline(blobStream(bytes), res);
  });

  router.get('/redirect', endpoint('redirect', ANY), (req, res) => {
    const to = req.query.to;
    if (typeof to !== 'string' || to === '')
      throw new HttpError(400, 'query parameter `to` (the Location) is required', 'InvalidRequestArguments');
    res.status(303).location(to).json({ url: to });
  });

  router.all('/flaky/:key', endpoint('flaky', ANY), (req, res) => {
    const failures = intParam(req.query.failures, 'failures', 100);
    const key = req.params.key as string;
    const attempt = (failuresSeen.get(key) ?? 0) + 1;
    failuresSeen.set(key, attempt);
    if (attempt <= failures)
      throw new HttpError(503, `failure ${attempt} of ${failures} for ${key}`, 'InternalServerError');
    req.resume();
    res.json({ attempts: attempt, clientId: authOf(res).clientId });
  });

  router.get(
    '/scoped/:scope',
    endpoint('scoped', (req) => String(req.params.scope)),
    (_req, res) => {
      res.json({ ok: true, clientId: authOf(res).clientId });
    },
  );

  router.all('/echo{/*rest}', endpoint('echo', ANY), (req, res) => {
    const { clientId, scheme } = authOf(res);
    res.json({ method: req.method, url: req.originalUrl, host: req.headers.host, clientId, scheme });
  });

  return router;
}
