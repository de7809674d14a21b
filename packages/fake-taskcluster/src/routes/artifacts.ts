/**
 * @module routes/artifacts
 * createArtifact and finishArtifact, with the queue's checks in its order (PROTOCOLS.md §3.4).
 * The scope `queue:create-artifact:<taskId>/<runId>` depends only on the URL, so, as in
 * Taskcluster's API library, it is checked first, before the body is looked at.
 */
import { Router } from 'express';
import type { Request } from 'express';
import { jsonBody } from '../auth/json-body.js';
import { HttpError } from '../errors.js';
import { PRINTABLE, RUN_ID, SLUGID, slugid } from '../ids.js';
import { compatible } from '../queue/artifact-store.js';
import type { Artifact, StorageType } from '../queue/artifact-store.js';
import type { Run, TaskRecord } from '../queue/model.js';
import { objectUploadCredentials } from '../queue/task-credentials.js';
import { finishArtifactRequest, postArtifactRequest } from '../schemas/queue.js';
import { baseUrl } from '../storage/signed-url.js';
import { param, validBody, validParams } from '../validation.js';
import type { RouteContext } from './context.js';

const PARAMS = validParams({ taskId: SLUGID, runId: RUN_ID, name: PRINTABLE });
const FIFTEEN_MINUTES = 15 * 60 * 1000;
const TWENTY_FIVE_MINUTES = 25 * 60 * 1000;
const PUT_URL_SECONDS = 45 * 60;

type ArtifactRequest = Record<string, string> & { storageType: StorageType; expires: string };

export const objectNameOf = (taskId: string, runId: number, name: string) => `t/${taskId}/${runId}/${name}`;
const runScope = (req: Request) => `queue:create-artifact:${param(req, 'taskId')}/${param(req, 'runId')}`;
const inputError = (message: string) => new HttpError(400, message, 'InputError');

function details(
  input: ArtifactRequest,
  taskId: string,
  runId: number,
  name: string,
): Record<string, unknown> {
  switch (input.storageType) {
    case 's3':
      return {
        bucket: name.startsWith('public/') ? 'public' : 'private',
        prefix: `${taskId}/${runId}/${name}`,
      };
    case 'reference':
      return { url: input.url };
    case 'link':
      return { artifact: input.artifact };
    case 'error':
      return { message: input.message, reason: input.reason };
    case 'object':
      return { uploadId: slugid() };
  }
}

export function artifactRoutes(ctx: RouteContext): Router {
  const { endpoint, queue, artifacts, objects, signer, issuer, now } = ctx;
  const router = Router();

  /** The run an artifact may be created for now, else the queue's 400 / 409. */
  function writableRun(taskId: string, runId: number, expires: number): { task: TaskRecord; run: Run } {
    if (expires < now() - FIFTEEN_MINUTES) throw inputError('Expires must be in the future');
    queue.sweep();
    const task = queue.get(taskId);
    if (!task) throw inputError('Task not found');
    const run = task.runs[runId];
    if (!run) throw inputError('Run not found');
    if (!run.workerGroup || !run.workerId)
      throw inputError('Run was not claimed by a worker and so no artifacts can exist');
    if (expires > Date.parse(task.def.expires))
      throw inputError(
        `Artifact expires (${new Date(expires).toJSON()}) after the task expiration ${task.def.expires} (task.expires < expires) - this is not allowed, artifacts may not expire after the task they belong to expires`,
      );
    const lateException =
      run.state === 'exception' && Date.parse(run.resolved ?? '') > now() - TWENTY_FIVE_MINUTES;
    if (run.state !== 'running' && !lateException)
      throw new HttpError(
        409,
        "Artifacts cannot be created for a task after it is resolved, unless it is resolved 'exception', and even in this case only up to 25 min past resolution.",
        'RequestConflict',
      );
    return { task, run };
  }

  router.post(
    '/task/:taskId/runs/:runId/artifacts/{*name}',
    endpoint('createArtifact', runScope),
    PARAMS,
    jsonBody(),
    validBody(postArtifactRequest),
    (req, res) => {
      const [taskId, runId, name] = [param(req, 'taskId'), Number(param(req, 'runId')), param(req, 'name')];
      const input = req.body as ArtifactRequest;
      const expires = Date.parse(input.expires);
      const { task, run } = writableRun(taskId, runId, expires);
      const artifact: Artifact = {
        taskId,
        runId,
        name,
        storageType: input.storageType,
        contentType: input.contentType ?? 'application/binary',
        expires: new Date(expires).toJSON(),
        details: details(input, taskId, runId, name),
        present: input.storageType !== 'object',
      };
      const original = artifacts.get(taskId, runId, name);
      if (original && !compatible(original, artifact))
        throw new HttpError(
          409,
          `Artifact already exists with different properties, and none of the allowed exceptions apply: ${JSON.stringify({ storageType: original.storageType, contentType: original.contentType, expires: original.expires })}`,
          'RequestConflict',
        );
      const stored = original
        ? {
            ...original,
            storageType: artifact.storageType,
            details: artifact.details,
            expires: artifact.expires,
          }
        : artifact;
      const { projectId } = task.def;
      const objectName = objectNameOf(taskId, runId, name);
      if (artifact.storageType === 'object')
        objects.createForUpload(objectName, projectId, String(artifact.details.uploadId), artifact.expires);
      artifacts.put(stored);
      if (stored.storageType === 'object') {
        const ref = { taskId, runId, workerGroup: run.workerGroup ?? '', workerId: run.workerId ?? '' };
        res.json({
          storageType: 'object',
          name: objectName,
          projectId,
          uploadId: stored.details.uploadId,
          expires: stored.expires,
          credentials: objectUploadCredentials(issuer, ref, { projectId, name: objectName, expires }, now()),
        });
      } else if (stored.storageType === 's3') {
        const key = `s3/${String(stored.details.prefix)}`;
        const path = signer.sign({
          method: 'PUT',
          key,
          expires: now() + (PUT_URL_SECONDS + 10) * 1000,
          headers: { 'content-type': stored.contentType },
        });
        res.json({
          storageType: 's3',
          contentType: stored.contentType,
          expires: new Date(now() + PUT_URL_SECONDS * 1000).toJSON(),
          putUrl: baseUrl(req.headers) + path,
        });
      } else {
        res.json({ storageType: stored.storageType });
      }
    },
  );

  router.put(
    '/task/:taskId/runs/:runId/artifacts/{*name}',
    endpoint('finishArtifact', runScope),
    PARAMS,
    jsonBody(),
    validBody(finishArtifactRequest),
    (req, res) => {
      const [taskId, runId, name] = [param(req, 'taskId'), Number(param(req, 'runId')), param(req, 'name')];
      const artifact = artifacts.get(taskId, runId, name);
      if (!artifact || !queue.get(taskId)?.runs[runId])
        throw new HttpError(
          404,
          `Artifact with taskId \`${taskId}\`, runId ${runId}, name \`${name}\` not found`,
          'ResourceNotFound',
        );
      if (artifact.storageType !== 'object') throw inputError('Only object artifacts can be finished');
      if (!artifact.present) {
        if ((req.body as { uploadId: string }).uploadId !== artifact.details.uploadId)
          throw inputError('given uploadId does not match that for the artifact');
        if (objects.get(objectNameOf(taskId, runId, name))?.uploadId !== null)
          throw inputError('Object storing artifact data does not exist');
        artifacts.put({ ...artifact, present: true, details: {} });
      }
      res.status(204).end();
    },
  );

  return router;
}
