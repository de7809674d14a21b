import { describe, expect, it } from 'vitest';
import { workerShutdown } from '../errors.js';
import type { Credentials, Feature } from '../features/feature.js';
import { builtinFeatures } from '../features/index.js';
import { fakeWorker, type FakeWorker } from '../testing/fake-worker.js';
import { httpError, networkError } from '../testing/memory-queue.js';
import { ClaimedRun } from './claim.js';

const MINUTE = 60_000;
const REPORTS = ['reportCompleted', 'reportFailed', 'reportException'] as const;

/** A run whose container runs until the test ends it; the claim holds it for 20 minutes. */
async function longRun(f: FakeWorker, payload?: Record<string, unknown>) {
  f.docker.script = { output: 'working\n' };
  const claim = f.memory.addClaim(payload ? { payload } : {});
  const run = new ClaimedRun(claim, f.deps);
  const [containerId = ''] = await f.docker.untilStarted(1);
  return { claim, run, containerId, start: f.clock.now(), takenUntil: Date.parse(claim.takenUntil) };
}

/** A feature that records every set of credentials the run is given (as the proxy sidecar is). */
function credentialProbe(seen: Credentials[]): Feature {
  return {
    name: 'probe',
    isEnabled: () => true,
    isRequested: () => true,
    async start(run) {
      run.onCredentials((c) => seen.push(c));
    },
  };
}

function reportCalls(f: FakeWorker) {
  return REPORTS.flatMap((m) => f.memory.callsOf(m));
}

describe('ClaimedRun reclaims', () => {
  it('reclaims at (takenUntil − now) / reclaimDivisor, then again from each new takenUntil', async () => {
    const f = fakeWorker({ config: { reclaimDivisor: 4 } });
    const { claim, run, containerId, start } = await longRun(f);
    await f.clock.advance(5 * MINUTE - 1);
    expect(f.memory.callsOf('reclaimTask')).toHaveLength(0);
    await f.clock.advance(1);
    const first = await f.memory.waitFor('reclaimTask');
    expect(first.at).toBe(start + 5 * MINUTE);
    expect(first.args).toEqual([claim.status.taskId, '0']);
    expect(first.credentials).toEqual(claim.credentials);
    // The reclaim gave takenUntil = now + 20 min: the next one is 5 minutes later.
    await f.clock.advance(5 * MINUTE);
    const second = await f.memory.waitFor('reclaimTask', 2);
    expect(second.at).toBe(start + 10 * MINUTE);
    f.docker.exit(containerId, 0);
    expect((await run.done).report).toBe('completed');
    expect(f.memory.callsOf('reclaimTask')).toHaveLength(2);
    expect(f.clock.pending).toBe(0); // no reclaim left scheduled after the run
  });

  it('after a reclaim, the run and its later queue calls use the new task credentials', async () => {
    const seen: Credentials[] = [];
    const f = fakeWorker({ features: [...builtinFeatures, credentialProbe(seen)] });
    const { claim, run, containerId } = await longRun(f);
    await f.clock.advance(10 * MINUTE);
    await f.memory.waitFor('reclaimTask');
    const [reclaimed] = f.memory.callsOf('reclaimTask');
    expect(reclaimed?.error).toBeUndefined();
    expect(seen).toHaveLength(1);
    const fresh = seen[0];
    expect(fresh?.clientId).not.toBe(claim.credentials.clientId);
    f.docker.exit(containerId, 0);
    await run.done;
    const [report] = f.memory.callsOf('reportCompleted');
    expect(report?.credentials).toEqual(fresh);
    // The live log reference went up with the claim's credentials; the backing log with the new ones.
    const byName = (name: string) => f.memory.artifacts.filter((a) => a.name === name);
    expect(byName('public/logs/live.log')[0]?.credentials).toEqual(claim.credentials);
    expect(byName('public/logs/live_backing.log')[0]?.credentials).toEqual(fresh);
  });

  it('a reclaim answered 409 kills the container, resolves canceled, and reports nothing', async () => {
    const f = fakeWorker();
    const { run, containerId } = await longRun(f);
    f.memory.next('reclaimTask', httpError(409, 'run was resolved'));
    await f.clock.advance(10 * MINUTE);
    const result = await run.done;
    expect(f.docker.kills).toContain(containerId);
    expect(result.outcome).toMatchObject({ state: 'exception', reasonResolved: 'canceled' });
    expect(result.report).toBe('none');
    expect(reportCalls(f)).toEqual([]);
    // Nothing is uploaded after the cancellation: only the live log reference made at the start.
    expect(f.memory.artifacts.map((a) => a.body.storageType)).toEqual(['reference']);
    expect(f.liveLogServer.published[0]?.live).toBe(false);
  });

  it('a reclaim answered 409 while the run ends (a stop still at work) still reports nothing', async () => {
    // A stage that does not look at the abort signal (artifact uploads after the container ended,
    // an image pull): the cancellation lands while it works, and the run is still never reported.
    let release = (): void => undefined;
    let stopping = (): void => undefined;
    const inStop = new Promise<void>((r) => (stopping = r));
    const slowStop: Feature = {
      name: 'slow-stop',
      isEnabled: () => true,
      isRequested: () => true,
      async start() {
        return { stop: () => (stopping(), new Promise<void>((r) => (release = r))) };
      },
    };
    const f = fakeWorker({ features: [...builtinFeatures, slowStop] });
    const { run, containerId } = await longRun(f);
    f.docker.exit(containerId, 0);
    await inStop;
    f.memory.next('reclaimTask', httpError(409, 'run was resolved'));
    await f.clock.advance(10 * MINUTE);
    await f.memory.waitFor('reclaimTask');
    release();
    const result = await run.done;
    expect(result.outcome).toMatchObject({ state: 'exception', reasonResolved: 'canceled', canceled: true });
    expect(result.report).toBe('none');
    expect(reportCalls(f)).toEqual([]);
  });

  it('retries reclaim 500s and network errors with backoff; a success in time keeps the run going', async () => {
    const f = fakeWorker();
    const { run, containerId } = await longRun(f);
    f.memory.next('reclaimTask', httpError(500), networkError('ECONNRESET'));
    await f.clock.advance(10 * MINUTE);
    await f.memory.waitFor('reclaimTask');
    await f.clock.advance(2_000); // 200 ms + 400 ms, ±25 %
    const third = await f.memory.waitFor('reclaimTask', 3);
    expect(third.error).toBeUndefined();
    const [first, second] = f.memory.callsOf('reclaimTask');
    expect((second?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(150);
    expect(f.docker.kills).toEqual([]);
    expect(f.docker.running).toEqual([containerId]);
    f.docker.exit(containerId, 0);
    const result = await run.done;
    expect(result.report).toBe('completed');
    expect(f.memory.reports).toHaveLength(1);
  });

  it('retries a reclaim of a short claim too (6 s, reclaimed 3 s before it ends)', async () => {
    const f = fakeWorker({ claimTimeoutMs: 6_000 });
    const { run, containerId, takenUntil } = await longRun(f);
    f.memory.next('reclaimTask', networkError('ECONNRESET'));
    await f.clock.advance(3_000);
    await f.memory.waitFor('reclaimTask');
    await f.clock.advance(500); // 200 ms ±25 %: within the last third of the claim's time left
    const second = await f.memory.waitFor('reclaimTask', 2);
    expect(second.error).toBeUndefined();
    expect(second.at).toBeLessThanOrEqual(takenUntil - 1_000);
    expect(f.docker.kills).toEqual([]);
    f.docker.exit(containerId, 0);
    expect((await run.done).report).toBe('completed');
  });

  it('warns when the reclaim timer fires late (a held-up process), and reclaims', async () => {
    const f = fakeWorker();
    f.docker.script = { output: 'working\n' };
    const claim = f.memory.addClaim();
    // A clock whose timers fire 2 s after they are due, as in a process held up for 2 s.
    const clock = Object.create(f.clock) as typeof f.clock;
    clock.setTimer = (ms, fn) => f.clock.setTimer(ms + 2_000, fn);
    const run = new ClaimedRun(claim, { ...f.deps, clock });
    const [containerId = ''] = await f.docker.untilStarted(1);
    await f.clock.advance(10 * MINUTE + 2_000);
    await f.memory.waitFor('reclaimTask');
    const late = f.logs.find(
      (l) => l.msg === 'the reclaim timer fired late (the worker process was held up)',
    );
    expect(late).toMatchObject({ lateMs: 2_000 });
    f.docker.exit(containerId, 0);
    expect((await run.done).report).toBe('completed');
  });

  it('stops retrying a reclaim once the run has ended (nothing keeps the worker busy after it)', async () => {
    const f = fakeWorker();
    const { run, containerId } = await longRun(f);
    f.memory.next('reclaimTask', ...Array.from({ length: 500 }, () => httpError(500)));
    await f.clock.advance(10 * MINUTE);
    await f.memory.waitFor('reclaimTask'); // now waiting to retry
    f.docker.exit(containerId, 0);
    expect((await run.done).report).toBe('completed');
    const reclaims = f.memory.callsOf('reclaimTask').length;
    expect(f.clock.pending).toBe(0);
    await f.clock.advance(10 * MINUTE);
    expect(f.memory.callsOf('reclaimTask')).toHaveLength(reclaims);
  });

  it('aborts as internal-error when reclaims fail until shortly before takenUntil, and reports it in time', async () => {
    const f = fakeWorker();
    const { run, containerId, takenUntil } = await longRun(f);
    f.memory.next('reclaimTask', ...Array.from({ length: 500 }, () => httpError(503)));
    await f.clock.advance(10 * MINUTE); // the first reclaim
    await f.clock.advance(10 * MINUTE - 1); // retries until 5 s before takenUntil
    const result = await run.done;
    expect(f.docker.kills).toContain(containerId);
    expect(result.outcome).toMatchObject({ state: 'exception', reasonResolved: 'internal-error' });
    expect(result.outcome.error?.message).toContain('could not reclaim');
    const reclaims = f.memory.callsOf('reclaimTask');
    expect(reclaims.length).toBeGreaterThan(10);
    expect(reclaims.at(-1)?.at).toBeLessThanOrEqual(takenUntil - 5_000);
    expect(result.report).toBe('exception/internal-error');
    const [report] = f.memory.callsOf('reportException');
    expect(report?.args).toEqual([result.taskId, '0', { reason: 'internal-error' }]);
    expect(report?.at).toBeLessThan(takenUntil);
  });
});

describe('ClaimedRun reports', () => {
  it('reports a run that exits 0 with reportCompleted, exactly once, after its logs', async () => {
    const f = fakeWorker();
    f.docker.script = { output: 'hello\n', exitCode: 0 };
    const claim = f.memory.addClaim();
    const result = await new ClaimedRun(claim, f.deps).done;
    expect(result).toMatchObject({ taskId: claim.status.taskId, runId: 0, report: 'completed' });
    expect(reportCalls(f).map((c) => c.method)).toEqual(['reportCompleted']);
    expect(f.memory.reports).toEqual([
      { taskId: claim.status.taskId, runId: '0', report: 'completed', credentials: claim.credentials },
    ]);
    // The live log: a reference to the worker while it runs, then the stored log and a link to it.
    expect(f.memory.artifacts.map((a) => [a.name, a.body.storageType])).toEqual([
      ['public/logs/live.log', 'reference'],
      ['public/logs/live_backing.log', 'object'],
      ['public/logs/live.log', 'link'],
    ]);
    expect(f.memory.artifacts[0]?.body).toMatchObject({ url: f.liveLogServer.published[0]?.url });
    expect(f.memory.uploads[0]?.bytes.toString()).toContain('hello\n');
    const order = f.memory.calls.map((c) => c.method);
    expect(order.indexOf('reportCompleted')).toBe(order.length - 1);
  });

  it('reports a non-zero exit with reportFailed', async () => {
    const f = fakeWorker();
    f.docker.script = { output: '', exitCode: 3 };
    const result = await new ClaimedRun(f.memory.addClaim(), f.deps).done;
    expect(result.report).toBe('failed');
    expect(reportCalls(f).map((c) => c.method)).toEqual(['reportFailed']);
  });

  it('reports a malformed payload with reportException malformed-payload', async () => {
    const f = fakeWorker();
    const claim = f.memory.addClaim({ payload: { command: ['true'], maxRunTime: 60 } });
    const result = await new ClaimedRun(claim, f.deps).done;
    expect(result.report).toBe('exception/malformed-payload');
    expect(f.memory.callsOf('reportException')[0]?.args[2]).toEqual({ reason: 'malformed-payload' });
    expect(f.docker.started).toEqual([]);
  });

  it('retries a report answered 500 and reports once', async () => {
    const f = fakeWorker();
    f.docker.script = { output: '', exitCode: 0 };
    f.memory.next('reportCompleted', httpError(500));
    const run = new ClaimedRun(f.memory.addClaim(), f.deps);
    await f.memory.waitFor('reportCompleted');
    await f.clock.advance(1_000);
    const result = await run.done;
    expect(result.report).toBe('completed');
    expect(f.memory.callsOf('reportCompleted')).toHaveLength(2);
    expect(f.memory.reports).toHaveLength(1);
  });

  it('forgets a run whose report is answered 409, without throwing', async () => {
    const f = fakeWorker();
    f.docker.script = { output: '', exitCode: 0 };
    f.memory.next('reportCompleted', httpError(409, 'already resolved'));
    const result = await new ClaimedRun(f.memory.addClaim(), f.deps).done;
    expect(result.report).toBe('none');
    expect(f.memory.callsOf('reportCompleted')).toHaveLength(1);
    expect(f.logs.some((l) => l.msg.includes('resolved elsewhere'))).toBe(true);
  });

  it('a work directory that cannot be used resolves exception/internal-error, without a crash', async () => {
    const f = fakeWorker({ config: { workDir: '/nonexistent/docker-worker-test' } });
    const result = await new ClaimedRun(f.memory.addClaim(), f.deps).done;
    expect(result.report).toBe('exception/internal-error');
    expect(result.outcome.error?.message).toContain('ENOENT');
    expect(f.liveLogServer.published).toEqual([]);
    expect(f.docker.started).toEqual([]);
  });

  it('abort() before the run starts resolves it with that reason', async () => {
    const f = fakeWorker();
    f.docker.script = { output: 'working\n' };
    const run = new ClaimedRun(f.memory.addClaim(), f.deps);
    run.abort(workerShutdown('worker is stopping'));
    const result = await run.done;
    expect(result.report).toBe('exception/worker-shutdown');
    expect(f.docker.running).toEqual([]);
  });
});
