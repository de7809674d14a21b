/**
 * @module outcome
 * Maps a run to its resolution: the first error wins; else exit 0 is completed, an exit status in
 * `payload.onExitStatus.retry` is exception/intermittent-task, any other is failed.
 */
import type { TaskError } from './errors.js';
import type { Outcome } from './features/feature.js';
import type { TaskDefinition } from './task.js';

/** What the lifecycle learnt of the task container: filled in by `container-run.ts` as it goes. */
export interface ContainerResult {
  containerId?: string;
  exitCode?: number;
}

export function outcomeOf(
  task: TaskDefinition,
  container: Readonly<ContainerResult>,
  errors: readonly TaskError[],
  durationMs: number,
): Outcome {
  const code = container.exitCode ?? null;
  const base = {
    exitCode: code,
    durationMs,
    ...(container.containerId ? { containerId: container.containerId } : {}),
  };
  const error = errors[0];
  if (error) {
    const state = error.resolution === 'failed' ? 'failed' : 'exception';
    return { state, reasonResolved: error.resolution, ...base, error };
  }
  if (code === 0) return { state: 'completed', reasonResolved: 'completed', ...base };
  const retry = Array.isArray(task.payload?.onExitStatus?.retry) ? task.payload.onExitStatus.retry : [];
  if (code !== null && retry.includes(code)) {
    return { state: 'exception', reasonResolved: 'intermittent-task', ...base };
  }
  return { state: 'failed', reasonResolved: 'failed', ...base };
}
