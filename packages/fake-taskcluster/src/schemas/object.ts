/**
 * @module schemas/object
 * The object service's request schemas (services/object/schemas/v1), restated.
 */
import { dateSchema, projectIdSchema, slugSchema } from './common.js';

const projectId = projectIdSchema;
const uploadId = slugSchema;
const hashes = {
  type: 'object',
  properties: {
    sha256: { type: 'string', pattern: '^[a-z0-9]{64}$' },
    sha512: { type: 'string', pattern: '^[a-z0-9]{128}$' },
  },
  additionalProperties: true,
};

export const createUploadRequest = {
  type: 'object',
  properties: {
    projectId,
    uploadId,
    expires: dateSchema,
    hashes,
    proposedUploadMethods: {
      type: 'object',
      properties: {
        dataInline: {
          type: 'object',
          properties: { contentType: { type: 'string' }, objectData: { type: 'string', maxLength: 10926 } },
          additionalProperties: false,
          required: ['contentType', 'objectData'],
        },
        putUrl: {
          type: 'object',
          properties: { contentType: { type: 'string' }, contentLength: { type: 'integer' } },
          additionalProperties: false,
          required: ['contentType', 'contentLength'],
        },
      },
      additionalProperties: false,
    },
  },
  additionalProperties: false,
  required: ['projectId', 'uploadId', 'expires', 'proposedUploadMethods'],
};

export const finishUploadRequest = {
  type: 'object',
  properties: { projectId, uploadId, hashes },
  additionalProperties: false,
  required: ['uploadId', 'projectId'],
};

export const downloadObjectRequest = {
  type: 'object',
  properties: {
    acceptDownloadMethods: {
      type: 'object',
      properties: { simple: { const: true }, getUrl: { const: true } },
      additionalProperties: false,
    },
  },
  additionalProperties: false,
  required: ['acceptDownloadMethods'],
};
