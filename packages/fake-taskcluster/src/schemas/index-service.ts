/**
 * @module schemas/index-service
 * The index service's insert-task request schema.
 */
import { dateSchema, slugSchema } from './common.js';

export const insertTaskRequest = {
  type: 'object',
  properties: {
    taskId: slugSchema,
    rank: { type: 'number' },
    data: { type: 'object' },
    expires: dateSchema,
  },
  additionalProperties: false,
  required: ['taskId', 'rank', 'data', 'expires'],
};
