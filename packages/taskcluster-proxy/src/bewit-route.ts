/**
 * @module bewit-route
 * `/bewit` (PROTOCOLS.md §4.7): the body is an absolute URL; the answer is 303 with `Location` =
 * that URL signed as a Hawk bewit valid for one hour (bewit appended last), and the URL as body.
 */
import express, { Router } from 'express';
import type { CredentialStore } from './credentials.js';
import { HttpError } from './errors.js';
import { targetFromParts } from './routing.js';
import { signedUrl } from './signing.js';

const TTL_SECONDS = 3600;
const ABSOLUTE = /^(https?:\/\/[^/?#]+)([^?#]*)(?:\?([^#]*))?(#.*)?$/i;

export function bewitRoute(store: CredentialStore, authorizedScopes: readonly string[] | undefined): Router {
  const router = Router();
  router.all('/bewit', express.text({ type: () => true, limit: '16kb' }), (req, res) => {
    const url = String(req.body ?? '').trim();
    const m = ABSOLUTE.exec(url);
    let signed: string;
    try {
      if (!m) throw new Error('the body must be an absolute http(s) URL');
      const target = targetFromParts(m[1] as string, m[2] || '/', m[3]);
      signed = signedUrl(target, store.current, authorizedScopes, TTL_SECONDS, m[4] ?? '');
    } catch (err) {
      throw new HttpError(400, `Error creating bewit url: ${(err as Error).message}`);
    }
    res.status(303).location(signed).type('text/plain').send(signed);
  });
  return router;
}
