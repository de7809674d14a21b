/**
 * @module outcome
 * Maps a run to its resolution: the first error wins; else exit 0 is completed, an exit status in
 * `payload.onExitStatus.retry` is exception/intermittent-task, any other is failed.
 */
import type { TaskError } from './errors.js';
import type { Outcome } from './features/feature.js';
import type { TaskDefinition } from './task.js';

export function outcomeOf(
  task: TaskDefinition,
  exitCode: number | undefined,
  errors: readonly TaskError[],
  durationMs: number,
): Outcome {
  const code = exitCode ?? null;
  const error = errors[0];
  if (error) {
    const state = error.resolution === 'failed' ? 'failed' : 'exception';
    return { state, reasonResolved: error.resolution, exitCode: code, durationMs, error };
  }
  if (code === 0) return { state: 'completed', reasonResolved: 'completed', exitCode: code, durationMs };
  const retry = Array.isArray(task.payload?.onExitStatus?.retry) ? task.payload.onExitStatus.retry : [];
  if (code !== null && retry.includes(code)) {
    return { state: 'exception', reasonResolved: 'intermittent-task', exitCode: code, durationMs };
  }
  return { state: 'failed', reasonResolved: 'failed', exitCode: code, durationMs };
}
