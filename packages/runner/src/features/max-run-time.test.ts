import { describe, expect, it } from 'vitest';
import { TaskError } from '../errors.js';
import { fakeOutcome, fakeRun, startFeature } from '../testing/fake-run.js';
import { maxRunTime } from './max-run-time.js';

describe('maxRunTime', () => {
  it('aborts the run as failed once the limit passes on the clock', async () => {
    const { run, clock } = fakeRun({ payload: { maxRunTime: 30 } });
    await maxRunTime.start(run);
    await clock.advance(29_999);
    expect(run.signal.aborted).toBe(false);
    await clock.advance(1);
    expect(run.signal.aborted).toBe(true);
    expect(run.signal.reason).toBeInstanceOf(TaskError);
    expect(run.signal.reason).toMatchObject({
      resolution: 'failed',
      message: 'Task timeout after 30 seconds. Force killing container.',
    });
  });

  it('cancels its timer on stop', async () => {
    const { run, clock } = fakeRun({ payload: { maxRunTime: 5 } });
    await (await startFeature(maxRunTime, run)).stop(fakeOutcome());
    expect(clock.pending).toBe(0);
    await clock.advance(10_000);
    expect(run.signal.aborted).toBe(false);
  });

  it('refuses a limit above the worker maximum', async () => {
    const { run } = fakeRun({ payload: { maxRunTime: 600 }, config: { maxRunTimeLimit: 60 } });
    await expect(maxRunTime.start(run)).rejects.toMatchObject({ resolution: 'malformed-payload' });
  });
});
