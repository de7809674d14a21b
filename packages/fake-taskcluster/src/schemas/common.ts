/**
 * @module schemas/common
 * Schema fragments shared by the services (Taskcluster's `constants.yml`).
 */
import { SLUGID } from '../ids.js';

export const slugSchema = { type: 'string', pattern: SLUGID.source };
export const dateSchema = { type: 'string', format: 'date-time' };
export const projectIdSchema = {
  type: 'string',
  pattern: '^([a-zA-Z0-9._/-]*)$',
  minLength: 1,
  maxLength: 500,
};
