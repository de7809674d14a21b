/**
 * @module routes/artifact-download
 * Reading artifacts: getArtifact / getLatestArtifact (303 to the data, 424 for errors, links
 * followed with a scope check per name and cycles refused), artifact / latestArtifact (the
 * content description the client's `downloadArtifact` uses), listArtifacts, artifactInfo.
 */
import { Router } from 'express';
import type { Request, Response } from 'express';
import { DEFERRED, authorize } from '../auth/require-scopes.js';
import { issueTemporaryCredentials } from '../auth/issue-credentials.js';
import { HttpError } from '../errors.js';
import { PRINTABLE, RUN_ID, SLUGID } from '../ids.js';
import { serializeArtifact } from '../queue/artifact-store.js';
import type { Artifact } from '../queue/artifact-store.js';
import { objectBlobKey } from '../storage/object-store.js';
import { baseUrl } from '../storage/signed-url.js';
import { param, validParams } from '../validation.js';
import { objectNameOf } from './artifacts.js';
import type { RouteContext } from './context.js';

const PARAMS = validParams({ taskId: SLUGID, runId: RUN_ID, name: PRINTABLE });
const DOWNLOAD_URL_MS = 30 * 60 * 1000;
const notFound = (message: string) => new HttpError(404, message, 'ResourceNotFound');

export function artifactDownloadRoutes(ctx: RouteContext): Router {
  const { endpoint, queue, artifacts, objects, signer, issuer, now, publicArtifacts } = ctx;
  const router = Router();

  function authorizeNames(res: Response, names: string[]): void {
    const needed = names.filter((n) => !(publicArtifacts && n.startsWith('public/')));
    authorize(res, { AllOf: needed.map((n) => `queue:get-artifact:${n}`) });
  }

  function latestRunId(taskId: string): number {
    queue.sweep();
    const task = queue.get(taskId);
    if (!task) throw notFound('Task not found');
    if (task.runs.length === 0) throw notFound("Task doesn't have any runs");
    return task.runs.length - 1;
  }

  function follow(res: Response, taskId: string, runId: number, first: string): Artifact {
    const names: string[] = [];
    for (let name = first; ;) {
      names.push(name);
      authorizeNames(res, names);
      const artifact = artifacts.get(taskId, runId, name);
      if (!artifact?.present) throw notFound('Artifact not found');
      if (Date.parse(artifact.expires) < now())
        throw new HttpError(410, 'Artifact expired', 'ResourceExpired');
      if (artifact.storageType !== 'link') return artifact;
      name = String(artifact.details.artifact);
      if (names.includes(name)) throw new HttpError(400, 'Artifact leads to a link cycle', 'InputError');
    }
  }

  /** A signed GET URL for stored data (object or s3). */
  function dataUrl(req: Request, artifact: Artifact): string {
    const key =
      artifact.storageType === 'object'
        ? objectBlobKey(objects.finished(objectNameOf(artifact.taskId, artifact.runId, artifact.name)).name)
        : `s3/${String(artifact.details.prefix)}`;
    return baseUrl(req.headers) + signer.sign({ method: 'GET', key, expires: now() + DOWNLOAD_URL_MS });
  }

  function download(req: Request, res: Response, taskId: string, runId: number, name: string): void {
    const artifact = follow(res, taskId, runId, name);
    const { storageType } = artifact;
    res.setHeader('x-taskcluster-artifact-storage-type', storageType);
    if (storageType === 'error') {
      res.status(424).json({ reason: artifact.details.reason, message: artifact.details.message });
      return;
    }
    const url = storageType === 'reference' ? String(artifact.details.url) : dataUrl(req, artifact);
    res.status(303).location(url).json({ storageType, url });
  }

  function content(req: Request, res: Response, taskId: string, runId: number, name: string): void {
    const artifact = follow(res, taskId, runId, name);
    const { storageType, details } = artifact;
    if (storageType === 'object') {
      const objectName = objectNameOf(taskId, runId, artifact.name);
      const credentials = issueTemporaryCredentials({
        issuer,
        clientId: `artifact-download/${taskId}/${runId}/${artifact.name}`,
        start: now(),
        expiry: now() + 60 * 60 * 1000,
        scopes: [`object:download:${objectName}`],
      });
      res.json({ storageType, name: objectName, credentials });
    } else if (storageType === 'error') {
      res.json({ storageType, reason: details.reason, message: details.message });
    } else {
      const url = storageType === 'reference' ? String(details.url) : dataUrl(req, artifact);
      res.json({ storageType, url });
    }
  }

  function list(req: Request, res: Response, taskId: string, runId: number): void {
    const limit = Math.min(Number(req.query.limit ?? 1000) || 1000, 1000);
    const token = typeof req.query.continuationToken === 'string' ? req.query.continuationToken : '';
    const offset = token ? Number(Buffer.from(token, 'base64url').toString()) : 0;
    if (!Number.isInteger(offset) || offset < 0)
      throw new HttpError(400, 'Invalid continuationToken', 'InvalidRequestArguments');
    const all = artifacts.list(taskId, runId).filter((a) => a.present);
    const page = all.slice(offset, offset + limit).map(serializeArtifact);
    const next =
      offset + limit < all.length ? Buffer.from(String(offset + limit)).toString('base64url') : undefined;
    res.json({ artifacts: page, ...(next ? { continuationToken: next } : {}) });
  }

  function info(res: Response, taskId: string, runId: number, name: string): void {
    const artifact = artifacts.get(taskId, runId, name);
    if (!artifact?.present) throw notFound('Artifact not found');
    res.json(serializeArtifact(artifact));
  }

  const ids = (req: Request) => [param(req, 'taskId'), param(req, 'name')] as const;
  const runIdOf = (req: Request) => Number(param(req, 'runId'));

  for (const [path, method, fn] of [
    ['artifacts', 'getArtifact', download],
    ['artifact-content', 'artifact', content],
  ] as const) {
    router.get(
      `/task/:taskId/runs/:runId/${path}/{*name}`,
      endpoint(method, DEFERRED),
      PARAMS,
      (req, res) => {
        const [taskId, name] = ids(req);
        fn(req, res, taskId, runIdOf(req), name);
      },
    );
    const latest = method === 'artifact' ? 'latestArtifact' : 'getLatestArtifact';
    router.get(`/task/:taskId/${path}/{*name}`, endpoint(latest, DEFERRED), PARAMS, (req, res) => {
      const [taskId, name] = ids(req);
      authorizeNames(res, [name]);
      fn(req, res, taskId, latestRunId(taskId), name);
    });
  }

  const runListScope = (req: Request) =>
    `queue:list-artifacts:${param(req, 'taskId')}:${param(req, 'runId')}`;
  const taskListScope = (req: Request) => `queue:list-artifacts:${param(req, 'taskId')}`;
  router.get(
    '/task/:taskId/runs/:runId/artifacts',
    endpoint('listArtifacts', runListScope),
    PARAMS,
    (req, res) => {
      const taskId = param(req, 'taskId');
      if (runIdOf(req) > latestRunId(taskId))
        throw notFound(`Task with taskId: \`${taskId}\` has no run with runId: ${runIdOf(req)}`);
      list(req, res, taskId, runIdOf(req));
    },
  );
  router.get(
    '/task/:taskId/artifacts',
    endpoint('listLatestArtifacts', taskListScope),
    PARAMS,
    (req, res) => {
      const taskId = param(req, 'taskId');
      list(req, res, taskId, latestRunId(taskId));
    },
  );
  router.get(
    '/task/:taskId/runs/:runId/artifact-info/{*name}',
    endpoint('artifactInfo', runListScope),
    PARAMS,
    (req, res) => {
      const [taskId, name] = ids(req);
      info(res, taskId, runIdOf(req), name);
    },
  );
  router.get(
    '/task/:taskId/artifact-info/{*name}',
    endpoint('latestArtifactInfo', taskListScope),
    PARAMS,
    (req, res) => {
      const [taskId, name] = ids(req);
      info(res, taskId, latestRunId(taskId), name);
    },
  );

  return router;
}
