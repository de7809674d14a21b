/**
 * @module features/max-run-time
 * Aborts the run (the lifecycle kills the container) once payload.maxRunTime seconds have passed
 * on the run's clock; the task resolves failed, as docker-worker did.
 */
import { failure, malformedPayload } from '../errors.js';
import type { Feature } from './feature.js';

export const maxRunTime: Feature = {
  name: 'maxRunTime',
  isEnabled: () => true,
  isRequested: () => true,
  async start(run) {
    const limit = run.task.payload.maxRunTime;
    const max = run.config.maxRunTimeLimit;
    if (limit > max)
      throw malformedPayload(
        `maxRunTime ${limit}s is above this worker's limit of ${max}s; lower payload.maxRunTime`,
      );
    const message = `Task timeout after ${limit} seconds. Force killing container.`;
    const cancel = run.clock.setTimer(limit * 1000, () => run.abort(failure(message)));
    return { stop: async () => cancel() };
  },
};
