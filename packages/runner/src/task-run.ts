/**
 * @module task-run
 * The thin lifecycle: start each requested feature in order (enabled? scopes?), keeping the
 * handle each start returns; run the container (created while the features' sidecars get ready,
 * started once they are); stop the handles in reverse (always); remove everything by label, then
 * the handles' afterCleanup; then their finish (the live log's footer last), and map the outcome
 * to a resolution. With `deferCleanup` (queue mode) and no afterCleanup hook, the removal starts
 * after the stops and runs beside the finish hooks: the caller reports the outcome without
 * waiting for it and awaits `run.removeEverything()` afterwards (its failure is then the
 * operator's, not the task's). It never learns about images, logs or artifacts.
 */
import { SpecBuilder } from './container-spec.js';
import { createTaskContainer, runCreatedContainer } from './container-run.js';
import { malformedPayload, TaskError, toTaskError } from './errors.js';
import type { Feature, FeatureRun, Outcome } from './features/feature.js';
import { outcomeOf, type ContainerResult } from './outcome.js';
import type { TaskRun } from './run-context.js';
import { assertScopes } from './scopes.js';

export interface RunTaskOptions {
  /** Report without waiting for the containers' removal when no handle needs it (queue mode). */
  deferCleanup?: boolean;
}

export async function runTask(
  run: TaskRun,
  features: readonly Feature[],
  options: RunTaskOptions = {},
): Promise<Outcome> {
  const handles: { name: string; handle: FeatureRun }[] = [];
  const errors: TaskError[] = [];
  const container: ContainerResult = {};
  /** The features' `ready`: the task container is created meanwhile and started after them. */
  const readies: Promise<void>[] = [];
  const record = (err: unknown): void => {
    const error = toTaskError(err, run.signal);
    if (errors.includes(error)) return;
    errors.push(error);
    if (error.resolution === 'internal-error') run.log.error({ err: error.cause ?? error }, 'task error');
    else run.log.info({ resolution: error.resolution }, 'task error');
    run.liveLog.error(error.message);
  };
  /**
   * The outcome so far. A cancellation (queue mode: reclaim 409) wins over everything, even when it
   * came in a stage that does not look at the signal (artifact uploads after the container ended):
   * the hooks then upload and report nothing more.
   */
  const outcome = (): Outcome => {
    const reason: unknown = run.signal.reason;
    const cancel = run.signal.aborted && reason instanceof TaskError && reason.resolution === 'canceled';
    const all = cancel && !errors.includes(reason) ? [reason, ...errors] : errors;
    const result = outcomeOf(run.task, container, all, run.clock.now() - run.startedAt);
    return cancel ? { ...result, canceled: true } : result;
  };
  /** Calls one hook of every handle, latest first; an error is recorded and the others still run. */
  const each = async (hookName: 'stop' | 'afterCleanup' | 'finish'): Promise<void> => {
    for (const { name, handle } of [...handles].reverse()) {
      const hook = handle[hookName];
      if (!hook) continue;
      run.log.debug({ hook: hookName, feature: name }, `feature ${hookName}`);
      await hook.call(handle, outcome()).catch(record);
    }
  };

  try {
    const spec = new SpecBuilder();
    for (const feature of features) {
      if (!feature.isRequested(run.task)) continue;
      if (!feature.isEnabled(run.config)) throw malformedPayload(notEnabled(feature));
      assertScopes(run.task.scopes, feature.requiredScopes?.(run.task, run.config) ?? [], feature.name);
      const handle =
        (await run.stages.time('prepare_script', () => feature.start(run), { feature: feature.name })) ?? {};
      handles.push({ name: feature.name, handle });
      if (handle.ready) readies.push(handle.ready);
      spec.merge(handle.contribution);
      run.signal.throwIfAborted();
    }
    await run.stages.time('prepare_script', () => run.taskNetwork(), { step: 'network' });
    const id = await run.stages.time('step_script', () => createTaskContainer(run, spec, container));
    if (readies.length > 0)
      await run.stages.time('prepare_script', () => Promise.all(readies), { step: 'ready' });
    await run.stages.time('step_script', () => runCreatedContainer(run, id, container));
  } catch (err) {
    record(err);
  }
  await run.stages.time('upload_artifacts', () => each('stop'));
  const defer = options.deferCleanup === true && !handles.some(({ handle }) => handle.afterCleanup);
  // Deferred, its failure is the caller's (it awaits run.removeEverything()), not the outcome's.
  const removal = run.stages
    .time('cleanup', () => run.removeEverything())
    .catch(defer ? () => undefined : record);
  if (!defer) await removal;
  await run.stages.time('upload_log', async () => {
    await each('afterCleanup');
    await each('finish');
  });
  const result = outcome();
  const report = (): void => run.stages.report({ state: result.state });
  // The stages line once the removal is over too.
  if (defer) void removal.then(report);
  else report();
  return result;
}

function notEnabled(feature: Feature): string {
  const key = feature.configKey ?? `features.${feature.name}.enabled`;
  return `the feature '${feature.name}' is not enabled on this worker (worker config: ${key}); remove it from payload.features, or run the task on a worker pool that enables it`;
}
