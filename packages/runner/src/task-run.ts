/**
 * @module task-run
 * The thin lifecycle: create the task network, start each requested feature in order (enabled?
 * scopes?), run the container, stop the started features in reverse (always), remove everything
 * by label, and map the outcome to a resolution. It never learns about images, logs or artifacts.
 */
import { runContainer } from './container-run.js';
import { malformedPayload, toTaskError, type TaskError } from './errors.js';
import type { Feature, Outcome } from './features/feature.js';
import { outcomeOf } from './outcome.js';
import type { RunContext } from './run-context.js';
import { assertScopes } from './scopes.js';

export async function runTask(run: RunContext, features: readonly Feature[]): Promise<Outcome> {
  const started: Feature[] = [];
  const errors: TaskError[] = [];
  const record = (err: unknown): void => {
    const error = toTaskError(err, run.signal);
    if (errors.includes(error)) return;
    errors.push(error);
    if (error.resolution === 'internal-error') run.log.error({ err: error.cause ?? error }, 'task error');
    else run.log.info({ resolution: error.resolution }, 'task error');
    run.liveLog.error(error.message);
  };
  const outcome = (): Outcome => outcomeOf(run.task, run.exitCode, errors, run.clock.now() - run.startedAt);

  try {
    await run.createNetwork(); // tc-<taskId>-<runId>, labelled
    for (const feature of features) {
      if (!feature.isRequested(run.task)) continue;
      if (!feature.isEnabled(run.config)) throw malformedPayload(notEnabled(feature));
      assertScopes(run.task.scopes, feature.requiredScopes?.(run.task, run.config) ?? [], feature.name);
      started.push(feature); // so that stop() runs even if start() throws
      run.log.debug({ stage: 'start', feature: feature.name }, 'feature starting');
      run.spec.merge(await feature.start(run));
      run.signal.throwIfAborted();
    }
    run.log.debug({ stage: 'run-container' }, 'task container starting');
    run.exitCode = await runContainer(run);
  } catch (err) {
    record(err);
  }
  for (const feature of started.reverse()) {
    try {
      run.log.debug({ stage: 'stop', feature: feature.name }, 'feature stopping');
      await feature.stop(run, outcome());
    } catch (err) {
      record(err);
    }
  }
  try {
    run.log.debug({ stage: 'clean-up' }, 'removing run resources');
    await run.removeEverything();
  } catch (err) {
    record(err);
  }
  return outcome();
}

function notEnabled(feature: Feature): string {
  return `the feature '${feature.name}' is not enabled on this worker; remove it from payload.features, or run the task on a worker pool that enables it`;
}
