/**
 * @module features/artifacts
 * On stop, copies payload.artifacts out of the stopped task container (the outcome names it) into
 * the run's artifact sink, each expiring at its own `expires` or the task's (never later than the task's). A missing
 * or wrong-typed path gives an error record, not a failed task; an upload error fails the task.
 * features.artifacts (default true, as the last docker-worker): false uploads none of them (the
 * logs still go); so does a worker with features.artifacts.enabled false, where a task asking
 * features.artifacts: true is malformed-payload.
 */
import { collectArtifact } from '../artifacts/collect.js';
import { featureEnabled } from '../config.js';
import { failure, malformedPayload, TaskError } from '../errors.js';
import type { Feature, Outcome, TaskRun } from './feature.js';

export const artifacts: Feature = {
  name: 'artifacts',
  isEnabled: () => true,
  isRequested: (task) =>
    task.payload.features?.artifacts !== false && Object.keys(task.payload.artifacts ?? {}).length > 0,
  async start(run) {
    if (!featureEnabled(run.config, 'artifacts')) {
      if (run.task.payload.features?.artifacts === true)
        throw malformedPayload(
          "the feature 'artifacts' is not enabled on this worker (worker config features.artifacts.enabled is false); remove it from payload.features, or run the task on a worker pool that enables it",
        );
      run.liveLog.info(
        'Artifacts are not uploaded on this worker (worker config features.artifacts.enabled is false)',
      );
      return {};
    }
    return { stop: (outcome) => collectAll(run, outcome) };
  },
};

async function collectAll(run: TaskRun, outcome: Outcome): Promise<void> {
  const { containerId } = outcome;
  // The container never existed (nothing to collect), or the run was cancelled (upload nothing).
  if (!containerId || outcome.reasonResolved === 'canceled') return;
  const taskExpires = run.task.expires;
  let firstError: Error | undefined;
  for (const [name, spec] of Object.entries(run.task.payload.artifacts ?? {})) {
    const own = spec.expires ? new Date(spec.expires) : taskExpires;
    const expires = own.getTime() > taskExpires.getTime() ? taskExpires : own;
    try {
      await collectArtifact(
        { docker: run.docker, containerId, sink: run.artifacts, liveLog: run.liveLog, expires },
        name,
        spec,
      );
    } catch (err) {
      run.log.warn({ err, artifact: name }, 'artifact upload failed');
      // A sink's own TaskError (queue mode: resource-unavailable after retries) keeps its resolution.
      firstError ??=
        err instanceof TaskError
          ? err
          : failure(`Error uploading "${name}" artifact. ${(err as Error).message}`, err);
    }
  }
  // Uploads may go on in the background (queue mode): the artifacts are stored when this returns.
  await run.artifacts.settle().catch((err: unknown) => {
    firstError ??= err as Error;
  });
  if (firstError) throw firstError;
}
