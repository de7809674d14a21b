import { describe, expect, it } from 'vitest';
import { failure, malformedPayload } from './errors.js';
import { outcomeOf } from './outcome.js';
import { fakeTask } from './testing/fake-run.js';

const task = fakeTask({ payload: { onExitStatus: { retry: [3, 75] } } });

describe('outcomeOf', () => {
  it('maps exit statuses', () => {
    expect(outcomeOf(task, { exitCode: 0 }, [], 5)).toMatchObject({
      state: 'completed',
      reasonResolved: 'completed',
      exitCode: 0,
    });
    expect(outcomeOf(task, { exitCode: 1 }, [], 5)).toMatchObject({
      state: 'failed',
      reasonResolved: 'failed',
      exitCode: 1,
    });
    expect(outcomeOf(task, { exitCode: 75 }, [], 5)).toMatchObject({
      state: 'exception',
      reasonResolved: 'intermittent-task',
      exitCode: 75,
    });
  });

  it('lets the first error win over the exit status', () => {
    expect(outcomeOf(task, { exitCode: 0 }, [failure('timeout'), malformedPayload('x')], 5)).toMatchObject({
      state: 'failed',
      exitCode: 0,
    });
    expect(outcomeOf(task, { exitCode: undefined }, [malformedPayload('x')], 5)).toMatchObject({
      state: 'exception',
      reasonResolved: 'malformed-payload',
      exitCode: null,
    });
  });
});
