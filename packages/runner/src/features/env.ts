/**
 * @module features/env
 * payload.env and payload.command for the task container, with the reserved variables
 * (`reserved-env.ts`) that override anything the task sets.
 */
import { reservedEnv } from '../reserved-env.js';
import type { Feature } from './feature.js';

export const env: Feature = {
  name: 'env',
  isEnabled: () => true,
  isRequested: () => true,
  async start(run) {
    return {
      contribution: {
        taskEnv: { ...(run.task.payload.env ?? {}) },
        reservedEnv: reservedEnv(run),
        cmd: run.task.payload.command,
      },
    };
  },
};
