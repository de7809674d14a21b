/**
 * @module worker/resolve
 * Reports a run's outcome to the queue after its artifacts and logs: reportCompleted,
 * reportFailed or reportException {reason}; retried on 5xx and network errors until the claim has
 * expired. A 409 (resolved or cancelled meanwhile) is logged and the run forgotten. A cancelled
 * run is never reported.
 */
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { Outcome } from '../features/feature.js';
import { statusOf, withRetries } from './retry.js';
import type { QueueClient } from './taskcluster.js';

export type Report = 'completed' | 'failed' | `exception/${string}` | 'none';

export async function reportOutcome(
  outcome: Outcome,
  ctx: { taskId: string; runId: number; queue: () => QueueClient; clock: Clock; log: Logger; until: number },
): Promise<Report> {
  if (outcome.reasonResolved === 'canceled') return 'none';
  const runId = String(ctx.runId);
  const report: Report =
    outcome.state === 'exception' ? `exception/${outcome.reasonResolved}` : outcome.state;
  const call = (q: QueueClient): Promise<unknown> =>
    outcome.state === 'completed'
      ? q.reportCompleted(ctx.taskId, runId)
      : outcome.state === 'failed'
        ? q.reportFailed(ctx.taskId, runId)
        : q.reportException(ctx.taskId, runId, { reason: outcome.reasonResolved });
  try {
    await withRetries(() => call(ctx.queue()), {
      clock: ctx.clock,
      until: ctx.until,
      onRetry: (err, attempt, delayMs) =>
        ctx.log.warn({ err: String(err), attempt, delayMs, report }, 'report failed; retrying'),
    });
    return report;
  } catch (err) {
    if (statusOf(err) === 409) {
      ctx.log.warn({ report, err: String(err) }, 'the run was resolved elsewhere; forgetting it');
      return 'none';
    }
    ctx.log.error({ report, err: String(err) }, 'could not report the run before its claim expired');
    return 'none';
  }
}
