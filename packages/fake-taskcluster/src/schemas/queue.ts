/**
 * @module schemas/queue
 * The queue's request schemas (services/queue/schemas/v1), restated: create-task, claim-work,
 * task-exception, post-artifact and finish-artifact requests. `additionalProperties: false` as upstream.
 */
import { dateSchema, projectIdSchema, slugSchema } from './common.js';

const id = { type: 'string', pattern: '^([a-zA-Z0-9-_]*)$', minLength: 1, maxLength: 38 };
const slug = slugSchema;
const date = dateSchema;
const scope = { type: 'string', pattern: '^[\\x20-\\x7e]*$' };
export const PRIORITIES = ['highest', 'very-high', 'high', 'medium', 'low', 'very-low', 'lowest'] as const;

const metadata = {
  type: 'object',
  properties: {
    name: { type: 'string', maxLength: 255 },
    description: { type: 'string', maxLength: 32768 },
    owner: { type: 'string', maxLength: 255 },
    source: { type: 'string', maxLength: 4096, pattern: '^(https?://|ssh://|git@)' },
  },
  additionalProperties: false,
  required: ['name', 'description', 'owner', 'source'],
};

export const createTaskRequest = {
  type: 'object',
  properties: {
    provisionerId: { type: 'string', pattern: '^[a-zA-Z0-9-_]{1,38}$' },
    workerType: { type: 'string', pattern: '^[a-z]([-a-z0-9]{0,36}[a-z0-9])?$' },
    taskQueueId: { type: 'string', pattern: '^[a-zA-Z0-9-_]{1,38}/[a-z]([-a-z0-9]{0,36}[a-z0-9])?$' },
    schedulerId: { ...id, default: '-' },
    projectId: { ...projectIdSchema, default: 'none' },
    taskGroupId: slug,
    dependencies: { type: 'array', items: slug, maxItems: 10000, uniqueItems: true, default: [] },
    requires: { type: 'string', enum: ['all-completed', 'all-resolved'], default: 'all-completed' },
    routes: {
      type: 'array',
      items: { type: 'string', maxLength: 128 },
      maxItems: 64,
      uniqueItems: true,
      default: [],
    },
    priority: { type: 'string', enum: PRIORITIES, default: 'lowest' },
    retries: { type: 'integer', minimum: 0, maximum: 49, default: 5 },
    created: date,
    deadline: date,
    expires: date,
    scopes: { type: 'array', items: scope, default: [] },
    payload: { type: 'object' },
    metadata,
    tags: { type: 'object', additionalProperties: { type: 'string', maxLength: 4096 }, default: {} },
    extra: { type: 'object', default: {} },
  },
  additionalProperties: false,
  required: ['created', 'deadline', 'payload', 'metadata'],
};

export const claimWorkRequest = {
  type: 'object',
  properties: { workerGroup: id, workerId: id, tasks: { type: 'integer', minimum: 1, maximum: 32 } },
  additionalProperties: false,
  required: ['workerGroup', 'workerId', 'tasks'],
};

export const WORKER_REASONS = [
  'worker-shutdown',
  'malformed-payload',
  'resource-unavailable',
  'internal-error',
  'intermittent-task',
] as const;

export const taskExceptionRequest = {
  type: 'object',
  properties: { reason: { type: 'string', enum: WORKER_REASONS } },
  additionalProperties: false,
  required: ['reason'],
};

const contentType = { type: 'string', maxLength: 255 };
const contentLength = { type: 'integer', minimum: 0 };
const variant = (storageType: string, properties: object, required: string[]) => ({
  type: 'object',
  properties: { storageType: { type: 'string', enum: [storageType] }, expires: date, ...properties },
  additionalProperties: false,
  required: ['storageType', 'expires', ...required],
});

export const postArtifactRequest = {
  oneOf: [
    variant('s3', { contentType, contentLength }, ['contentType']),
    variant('object', { contentType, contentLength }, ['contentType']),
    variant('reference', { contentType, url: { type: 'string', format: 'uri' } }, ['url', 'contentType']),
    variant('link', { contentType, artifact: { type: 'string' } }, ['artifact']),
    variant(
      'error',
      {
        reason: {
          type: 'string',
          enum: [
            'file-missing-on-worker',
            'invalid-resource-on-worker',
            'too-large-file-on-worker',
            'file-not-readable-on-worker',
          ],
        },
        message: { type: 'string', maxLength: 4096 },
      },
      ['reason', 'message'],
    ),
  ],
};

export const finishArtifactRequest = {
  type: 'object',
  properties: { uploadId: slug },
  additionalProperties: false,
  required: ['uploadId'],
};
