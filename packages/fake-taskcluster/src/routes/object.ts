/**
 * @module routes/object
 * The object service (upstream services/object/src/api.js): createUpload (dataInline or putUrl),
 * finishUpload (idempotent, hashes never change), startDownload (getUrl or simple), object
 * (metadata) and download (303 to the data).
 */
import { Router } from 'express';
import type { Request } from 'express';
import { jsonBody } from '../auth/json-body.js';
import { DEFERRED, authorize } from '../auth/require-scopes.js';
import { HttpError } from '../errors.js';
import { PRINTABLE } from '../ids.js';
import { createUploadRequest, downloadObjectRequest, finishUploadRequest } from '../schemas/object.js';
import { objectBlobKey } from '../storage/object-store.js';
import { baseUrl } from '../storage/signed-url.js';
import { param, validBody, validParams } from '../validation.js';
import type { RouteContext } from './context.js';

const NAME = validParams({ name: PRINTABLE });
const PUT_URL_SECONDS = 60 * 60;
const GET_URL_SECONDS = 60;
const downloadScope = (req: Request) => `object:download:${param(req, 'name')}`;

interface UploadBody {
  projectId: string;
  uploadId: string;
  expires: string;
  hashes?: Record<string, unknown>;
  proposedUploadMethods: {
    dataInline?: { contentType: string; objectData: string };
    putUrl?: { contentType: string; contentLength: number };
  };
}

export function objectRoutes({ endpoint, objects, blobs, signer, now }: RouteContext): Router {
  const router = Router();
  router.get('/ping', endpoint('ping', null), (_req, res) => {
    res.json({ alive: true, uptime: process.uptime() });
  });

  router.put(
    '/upload/:name',
    endpoint('createUpload', DEFERRED),
    NAME,
    jsonBody('16mb'),
    validBody(createUploadRequest),
    async (req, res) => {
      const name = param(req, 'name');
      const {
        projectId,
        uploadId,
        expires,
        hashes,
        proposedUploadMethods: proposed,
      } = req.body as UploadBody;
      authorize(res, `object:upload:${projectId}:${name}`);
      const object = objects.createForUpload(name, projectId, uploadId, expires);
      objects.addHashes(object, hashes);
      let uploadMethod: object = {};
      if (proposed.dataInline) {
        const { contentType, objectData } = proposed.dataInline;
        await blobs.write(objectBlobKey(name), Buffer.from(objectData, 'base64'), { contentType });
        uploadMethod = { dataInline: true };
      } else if (proposed.putUrl) {
        const { contentType, contentLength } = proposed.putUrl;
        const headers = { 'Content-Type': contentType, 'Content-Length': String(contentLength) };
        const expiresAt = now() + PUT_URL_SECONDS * 1000;
        const path = signer.sign({
          method: 'PUT',
          key: objectBlobKey(name),
          expires: expiresAt + 10_000,
          headers,
        });
        uploadMethod = {
          putUrl: {
            url: baseUrl(req.headers) + path,
            expires: new Date(expiresAt).toJSON(),
            headers: { ...headers, 'Content-Encoding': 'identity' },
          },
        };
      }
      res.json({ projectId, uploadId, expires, uploadMethod });
    },
  );

  router.post(
    '/finish-upload/:name',
    endpoint('finishUpload', DEFERRED),
    NAME,
    jsonBody(),
    validBody(finishUploadRequest),
    (req, res) => {
      const name = param(req, 'name');
      const { projectId, uploadId, hashes } = req.body as {
        projectId: string;
        uploadId: string;
        hashes?: Record<string, unknown>;
      };
      authorize(res, `object:upload:${projectId}:${name}`);
      const object = objects.get(name);
      if (!object) throw new HttpError(404, `Object "${name}" not found`, 'ResourceNotFound');
      if (object.projectId !== projectId)
        throw new HttpError(400, `Object "${name}" does not have projectId ${projectId}`, 'InputError');
      if (object.uploadId === null) {
        for (const [algo, hash] of Object.entries(hashes ?? {})) {
          if (object.hashes[algo] !== hash)
            throw new HttpError(
              409,
              object.hashes[algo] === undefined
                ? `Object "${name}" is already finished, but without hash algorithm ${algo}`
                : `Object "${name}" is already finished, but with a different hash for algorithm ${algo}`,
              'RequestConflict',
            );
        }
        res.json({});
        return;
      }
      if (object.uploadId !== uploadId)
        throw new HttpError(409, `Object "${name}" does not have uploadId ${uploadId}`, 'RequestConflict');
      objects.addHashes(object, hashes);
      if (!blobs.get(objectBlobKey(name)))
        throw new HttpError(400, `Object "${name}" has no data: the upload was never made`, 'InputError');
      object.uploadId = null;
      res.json({});
    },
  );

  router.put(
    '/start-download/{*name}',
    endpoint('startDownload', downloadScope),
    NAME,
    jsonBody(),
    validBody(downloadObjectRequest),
    (req, res) => {
      const name = param(req, 'name');
      const object = objects.finished(name);
      const accept = (req.body as { acceptDownloadMethods: Record<string, boolean> }).acceptDownloadMethods;
      const expires = now() + GET_URL_SECONDS * 1000;
      const url =
        baseUrl(req.headers) +
        signer.sign({ method: 'GET', key: objectBlobKey(name), expires: expires + 60_000 });
      if (accept.getUrl)
        res.json({ method: 'getUrl', url, expires: new Date(expires).toJSON(), hashes: object.hashes });
      else if (accept.simple) res.json({ method: 'simple', url });
      else throw new HttpError(406, 'Object supports methods simple, getUrl', 'NoMatchingMethod');
    },
  );

  router.get('/metadata/{*name}', endpoint('object', downloadScope), NAME, (req, res) => {
    const object = objects.finished(param(req, 'name'));
    res.json({ projectId: object.projectId, expires: object.expires, hashes: object.hashes });
  });

  router.get('/download/{*name}', endpoint('download', downloadScope), NAME, (req, res) => {
    const name = param(req, 'name');
    objects.finished(name);
    res.redirect(
      303,
      baseUrl(req.headers) +
        signer.sign({ method: 'GET', key: objectBlobKey(name), expires: now() + 30 * 60_000 }),
    );
  });

  return router;
}
