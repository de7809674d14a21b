/**
 * @module stage-timer
 * Where a run's time goes, in GitLab's stage names, for the operator log at debug and the bench's
 * breakdown table: `prepare_executor` (engine ping, start-up sweep, host firewall),
 * `prepare_script` (the features' starts: image, network, sidecars), `step_script` (the task
 * container, create to exit), `upload_artifacts` (the features' stops), `cleanup` (removing the
 * run's containers and network; in queue mode beside `upload_log` and `resolve`), `upload_log`
 * (the features' afterCleanup and finish: the live log stored), `resolve`
 * (queue mode: reporting the outcome). Measurement only: nothing reads these times to decide.
 */
import type { Logger } from 'pino';
import { performance } from 'node:perf_hooks';

export type Stage =
  | 'load_modules'
  | 'prepare_executor'
  | 'prepare_script'
  | 'step_script'
  | 'upload_artifacts'
  | 'cleanup'
  | 'upload_log'
  | 'resolve';

export class StageTimer {
  private readonly times: Partial<Record<Stage, number>> = {};
  private readonly started = performance.now();

  constructor(private readonly log?: Logger) {}

  /** Adds `ms` to `stage` (a stage measured elsewhere, e.g. the CLI's start-up). */
  add(stage: Stage, ms: number, detail?: Record<string, unknown>): void {
    this.times[stage] = (this.times[stage] ?? 0) + ms;
    this.log?.debug({ stage, ms: round(ms), ...detail }, `stage ${stage}`);
  }

  /** Runs `fn`, adding the time it took to `stage` (also when it throws). */
  async time<T>(stage: Stage, fn: () => Promise<T>, detail?: Record<string, unknown>): Promise<T> {
    const start = performance.now();
    try {
      return await fn();
    } finally {
      this.add(stage, performance.now() - start, detail);
    }
  }

  /** The stages so far, in ms (rounded to 0.1), and the total since the timer was created. */
  summary(): { stages: Partial<Record<Stage, number>>; totalMs: number } {
    const stages: Partial<Record<Stage, number>> = {};
    for (const [k, v] of Object.entries(this.times)) stages[k as Stage] = round(v);
    return { stages, totalMs: round(performance.now() - this.started) };
  }

  /** One debug line with every stage: what the bench's breakdown reads (`msg: task stages`). */
  report(extra?: Record<string, unknown>): void {
    this.log?.debug({ ...this.summary(), ...extra }, 'task stages');
  }
}

const round = (ms: number): number => Math.round(ms * 10) / 10;
