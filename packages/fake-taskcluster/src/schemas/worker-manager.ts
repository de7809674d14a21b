/**
 * @module schemas/worker-manager
 * worker-manager's register-worker and reregister-worker request schemas
 * (services/worker-manager/schemas/v1), restated. `additionalProperties: false` as upstream.
 */
import { dateSchema } from './common.js';

const id = { type: 'string', pattern: '^([a-zA-Z0-9-_]*)$', minLength: 1, maxLength: 38 };
const workerPoolId = { type: 'string', pattern: '^[a-zA-Z0-9-_]{1,38}/[a-z]([-a-z0-9]{0,36}[a-z0-9])?$' };
const secret = { type: 'string', pattern: '^[a-zA-Z0-9_-]{44}$' };
const str = { type: 'string' };
const proof = (properties: Record<string, object>) => ({
  type: 'object',
  properties,
  additionalProperties: false,
  required: Object.keys(properties),
});

export const registerWorkerRequest = {
  type: 'object',
  properties: {
    workerPoolId,
    providerId: id,
    workerGroup: id,
    workerId: id,
    // each shape differs, so that `oneOf` tells them apart (google, static, aws, azure)
    workerIdentityProof: {
      oneOf: [
        proof({ token: str }),
        proof({ staticSecret: secret }),
        proof({ document: str, signature: str }),
        proof({ document: str }),
      ],
    },
    systemBootTime: dateSchema,
  },
  additionalProperties: false,
  required: ['workerPoolId', 'providerId', 'workerGroup', 'workerId', 'workerIdentityProof'],
};

export const reregisterWorkerRequest = {
  type: 'object',
  properties: { workerPoolId, workerGroup: id, workerId: id, secret },
  additionalProperties: false,
  required: ['workerPoolId', 'workerGroup', 'workerId', 'secret'],
};
