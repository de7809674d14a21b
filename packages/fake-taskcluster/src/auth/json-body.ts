/**
 * @module auth/json-body
 * `jsonBody()`: express.json that also checks a signed Hawk payload `hash` over the raw body
 * (PROTOCOLS.md §1.4, §1.10 step 10). Use it after `endpoint(...)` on routes with a JSON body.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import express from 'express';
import type { RequestHandler } from 'express';
import hawk from 'hawk';
import { HttpError } from '../errors.js';
import type { ApiLocals } from './require-scopes.js';

export function jsonBody(limit = '1mb'): RequestHandler {
  return express.json({
    limit,
    type: () => true,
    verify: (req: IncomingMessage, res: ServerResponse, buf: Buffer) => {
      const hash = (res as ServerResponse & { locals?: ApiLocals }).locals?.auth?.hash;
      if (!hash) return;
      const h = hawk.crypto.initializePayloadHash('sha256', req.headers['content-type']);
      h.update(buf);
      if (hawk.crypto.finalizePayloadHash(h) !== hash)
        throw new HttpError(401, 'Invalid payload hash', 'AuthenticationFailed');
    },
  });
}
