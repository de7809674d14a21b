/**
 * @module features/allow-ptrace
 * payload.features.allowPtrace: CAP_SYS_PTRACE in the task container (gdb, strace, crash
 * reporters), as the last docker-worker. Needs scope docker-worker:feature:allowPtrace and worker
 * config features.allowPtrace.enabled (default true).
 */
import { featureEnabled } from '../config.js';
import type { Feature } from './feature.js';

export const allowPtrace: Feature = {
  name: 'allowPtrace',
  isEnabled: (config) => featureEnabled(config, 'allowPtrace'),
  isRequested: (task) => task.payload.features?.allowPtrace === true,
  requiredScopes: () => [['docker-worker:feature:allowPtrace']],
  async start() {
    return { contribution: { capAdd: ['SYS_PTRACE'] } };
  },
};
