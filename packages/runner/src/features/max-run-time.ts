/**
 * @module features/max-run-time
 * Aborts the run (the lifecycle kills the container) once payload.maxRunTime seconds have passed
 * on the run's clock; the task resolves failed, as docker-worker did.
 */
import { failure, malformedPayload } from '../errors.js';
import type { Feature, TaskRun } from './feature.js';

const cancels = new WeakMap<TaskRun, () => void>();

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
    cancels.set(
      run,
      run.clock.setTimer(limit * 1000, () => run.abort(failure(message))),
    );
  },
  async stop(run) {
    cancels.get(run)?.();
    cancels.delete(run);
  },
};
