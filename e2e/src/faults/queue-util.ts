/**
 * @module e2e/faults/queue-util
 * Small queue-side helpers of the fault suite: a run's log whatever its name (the payload may
 * rename it), read with signed URLs (private names need scopes), and the queue's call rate.
 */
import type { QueueSession } from '../queue-harness.js';

/** Any artifact of a run, as the admin client reads it (a signed URL, redirects followed). */
export async function readArtifact(
  q: QueueSession,
  taskId: string,
  name: string,
  runId = 0,
): Promise<string> {
  const url = await q.admin.buildSignedUrl(q.admin.getArtifact, taskId, String(runId), name);
  const res = await fetch(url);
  return res.text();
}

/**
 * The run's task log: the link artifact the worker made (`public/logs/live.log` unless the payload
 * renamed it), else the stored backing log (a payload with features.localLiveLog false has no link).
 */
export async function runLog(q: QueueSession, taskId: string, runId = 0): Promise<string> {
  const artifacts = q.tc.queue.artifactsOf(taskId, runId);
  const name =
    artifacts.find((a) => a.storageType === 'link')?.name ??
    artifacts.find((a) => a.storageType === 'object' && a.name.includes('_backing'))?.name;
  return readArtifact(q, taskId, name ?? 'public/logs/live.log', runId);
}

/** Requests per second the queue saw from `clientPrefix` between two indexes of `tc.requests`. */
export function callRate(
  q: QueueSession,
  from: number,
  to: number,
  seconds: number,
  clientPrefix = '',
): number {
  const n = q.tc.requests.slice(from, to).filter((r) => (r.clientId ?? '').startsWith(clientPrefix)).length;
  return Math.round((n / seconds) * 10) / 10;
}
