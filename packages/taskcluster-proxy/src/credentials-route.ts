/**
 * @module credentials-route
 * `PUT /credentials` (PROTOCOLS.md §4.6, this project's stricter contract): the caller must
 * present the per-run secret as `Authorization: Bearer <secret>`. No secret configured ⇒ 403;
 * wrong or missing ⇒ 401; bad JSON ⇒ 400; success ⇒ 200 and an atomic swap.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import express, { Router } from 'express';
import type { Logger } from 'pino';
import { CredentialsError, parseCredentials } from './credentials.js';
import type { CredentialStore } from './credentials.js';
import { HttpError } from './errors.js';

function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

export function credentialsRoute(store: CredentialStore, secret: string | undefined, logger: Logger): Router {
  const router = Router();
  router.all('/credentials', (req, _res, next) => {
    if (req.method !== 'PUT') throw new HttpError(405, 'use PUT /credentials', { allow: 'PUT' });
    if (secret === undefined)
      throw new HttpError(
        403,
        'credential updates are disabled: the proxy was started without TASKCLUSTER_PROXY_CREDENTIALS_SECRET',
      );
    const m = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
    if (!m || !sameSecret(m[1] as string, secret)) {
      logger.warn({ method: req.method, target: '/credentials', status: 401 }, 'credentials update refused');
      throw new HttpError(
        401,
        'PUT /credentials needs Authorization: Bearer <the secret the proxy was started with>',
        { 'www-authenticate': 'Bearer' },
      );
    }
    next();
  });
  router.put('/credentials', express.text({ type: () => true, limit: '64kb' }), (req, res) => {
    let body: unknown;
    try {
      body = JSON.parse(String(req.body ?? ''));
    } catch {
      throw new HttpError(
        400,
        'body must be JSON {"clientId": "...", "accessToken": "...", "certificate": "<certificate JSON string or empty>"}',
      );
    }
    try {
      store.replace(parseCredentials(body));
    } catch (err) {
      if (err instanceof CredentialsError) throw new HttpError(400, `invalid credentials: ${err.message}`);
      throw err;
    }
    logger.info(
      { clientId: store.current.clientId, temporary: Boolean(store.current.certificate) },
      'credentials replaced',
    );
    res.status(200).end();
  });
  return router;
}
