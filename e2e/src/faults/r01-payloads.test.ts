/**
 * R1: generated payloads (fast-check, from the payload schema read at run time): valid, near-valid
 * and hostile. Each goes through the validator (every one answers: no error for a valid one, one
 * line per problem, each with its JSON path, for the rest; its time measured for the table), and a
 * bounded sample goes through a real `docker-worker start`: every task resolves, the worker stays
 * up, nothing is left in the engine.
 */
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { payloadErrors } from '@docker-worker/runner';
import type { Json } from 'taskcluster-client';
import { afterAll, describe, expect, it } from 'vitest';
import { newSession } from '../docker.js';
import { QueueSession } from '../queue-harness.js';
import { hostile, nearValid, valid, type Schema } from './schema-arbitrary.js';
import { runLog } from './queue-util.js';
import { percentile, record, scale, since } from './recorder.js';

const SCHEMA = fileURLToPath(new URL('../../../packages/runner/src/schemas/payload.json', import.meta.url));
const schema = JSON.parse(readFileSync(SCHEMA, 'utf8')) as Schema;
const COUNT = scale(300, 2000);
const SAMPLE = scale(12, 40);
const expires = new Date(Date.now() + 86_400_000);

const payloads = fc.sample(
  fc.oneof(
    { weight: 4, arbitrary: valid(schema).map((p) => ({ kind: 'valid', p })) },
    { weight: 3, arbitrary: nearValid(schema).map((p) => ({ kind: 'near-valid', p })) },
    { weight: 3, arbitrary: hostile(schema).map((p) => ({ kind: 'hostile', p })) },
  ),
  { numRuns: COUNT, seed: Number(process.env.FAULTS_SEED ?? 17) },
);

let q: QueueSession | undefined;
afterAll(async () => {
  await q?.close();
});

describe('R1: generated payloads', () => {
  const times: number[] = [];
  let accepted = 0;

  it(`the validator answers each of ${COUNT} payloads: none, or one line per problem with its path`, () => {
    const bad: string[] = [];
    for (const { p } of payloads) {
      const start = performance.now();
      let errors: string[];
      try {
        errors = payloadErrors({ payload: p as never, expires });
      } catch (err) {
        bad.push(`threw ${String(err)} on ${JSON.stringify(p)?.slice(0, 200)}`);
        continue;
      }
      times.push(since(start));
      if (errors.length === 0) accepted++;
      for (const e of errors)
        if (!/^\/.*?: \S/s.test(e) || e.length > 2000) bad.push(`unclear: ${e.slice(0, 200)}`);
    }
    expect(bad).toEqual([]);
    expect(accepted).toBeGreaterThan(0);
    expect(accepted).toBeLessThan(COUNT);
  });

  it(`a sample of ${SAMPLE} through a real worker: each resolves, the worker stays up, nothing left`, async () => {
    q = await QueueSession.start(`e2e-fault-r1-${newSession()}`);
    const size = (p: unknown): number => JSON.stringify(p)?.length ?? 0;
    // Objects of a size a queue takes (createTask bodies), valid and not, each kind represented.
    const pool = payloads.filter(
      ({ p }) => p !== null && typeof p === 'object' && !Array.isArray(p) && size(p) < 50_000,
    );
    const runnable = (p: unknown): Record<string, unknown> => {
      // The image is one this machine has (no registry is reachable), the run short; the rest as generated.
      const payload = { ...(p as Record<string, unknown>) };
      if (typeof payload.image === 'string' || (payload.image as { type?: string })?.type === 'docker-image')
        payload.image = 'debian:bookworm-slim';
      if (typeof payload.maxRunTime === 'number' && payload.maxRunTime > 30) payload.maxRunTime = 30;
      return payload;
    };
    const problemsOf = (p: unknown): string[] => payloadErrors({ payload: p as never, expires });
    // A third valid ones that need no scope or worker config (so they run), a third near-valid, a third hostile.
    const PLAIN = new Set([
      'image',
      'command',
      'env',
      'maxRunTime',
      'artifacts',
      'onExitStatus',
      'log',
      'supersederUrl',
    ]);
    const plain = (p: Record<string, unknown>): Record<string, unknown> =>
      Object.fromEntries(Object.entries(p).filter(([k]) => PLAIN.has(k)));
    const third = Math.ceil(SAMPLE / 3);
    const sample = [
      ...pool
        .filter((x) => x.kind === 'valid')
        .map((x) => plain(runnable(x.p)))
        .filter((p) => problemsOf(p).length === 0)
        .slice(0, third),
      ...pool
        .filter((x) => x.kind === 'near-valid')
        .slice(0, third)
        .map((x) => runnable(x.p)),
      ...pool
        .filter((x) => x.kind === 'hostile')
        .slice(0, third)
        .map((x) => runnable(x.p)),
    ];
    const worker = await q.startWorker({ capacity: 4 });
    const tasks: { taskId: string; problems: string[] }[] = [];
    for (const payload of sample) {
      const taskId = await q.createTask({}, { payload: payload as Json });
      tasks.push({ taskId, problems: problemsOf(payload) });
    }
    const states: string[] = [];
    for (const t of tasks) {
      const state = await q.resolved(t.taskId);
      states.push(state);
      if (t.problems.length > 0) {
        expect(state).toBe('exception/malformed-payload');
        const log = await runLog(q, t.taskId);
        expect(log).toContain(t.problems[0]!.slice(0, 60));
      } else
        expect(state).toMatch(/^(completed|failed|exception\/(malformed-payload|resource-unavailable))$/);
    }
    expect(worker.child.exitCode).toBeNull();
    expect(worker.stderr()).not.toMatch(/"level":(50|60)/);
    worker.child.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
    expect(await q.leftovers()).toEqual({ containers: 0, networks: 0 });
    const p99 = percentile(times, 0.99);
    const max = Math.max(...times);
    record({
      id: 'R1',
      fault: `${COUNT} generated payloads (valid/near-valid/hostile), ${tasks.length} through a worker`,
      tried: COUNT + tasks.length,
      held: COUNT + states.length,
      measured: `validation p50 ${percentile(times, 0.5)} ms, p99 ${p99} ms, max ${max} ms (${accepted} accepted); worker: ${count(states)}; worker up, 0 left`,
    });
  });
});

function count(states: string[]): string {
  const c = new Map<string, number>();
  for (const s of states) c.set(s, (c.get(s) ?? 0) + 1);
  return [...c].map(([s, n]) => `${n} ${s}`).join(', ');
}
