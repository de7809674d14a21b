import { describe, expect, it } from 'vitest';
import { toTaskDefinition } from './task-file.js';

const now = Date.UTC(2026, 0, 1);

describe('task file', () => {
  it('fills defaults: a slugid, run 0, no scopes, deadline +1 day, expires +1 year', () => {
    const t = toTaskDefinition({ payload: { image: 'x', maxRunTime: 1 } }, { now });
    expect(t.taskId).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(t).toMatchObject({ runId: 0, scopes: [] });
    expect(t.deadline.toISOString()).toBe('2026-01-02T00:00:00.000Z');
    expect(t.expires.toISOString()).toBe('2027-01-01T00:00:00.000Z');
  });

  it('lets the command line override the task id', () => {
    expect(
      toTaskDefinition({ taskId: 'fromFile', payload: {} }, { taskId: 'fromFlag', runId: 2, now }),
    ).toMatchObject({ taskId: 'fromFlag', runId: 2 });
  });

  it('says what is wrong in one line', () => {
    expect(() => toTaskDefinition([], { now })).toThrow(
      'the task file must hold an object with a "payload" key',
    );
    expect(() => toTaskDefinition({ image: 'x' }, { now })).toThrow(/no "payload" object/);
    expect(() => toTaskDefinition({ payload: {}, scopes: 'a' }, { now })).toThrow(
      'task field "scopes" must be a list of strings',
    );
    expect(() => toTaskDefinition({ payload: {}, expires: 'soon' }, { now })).toThrow(
      /"expires" must be an ISO 8601 date/,
    );
    expect(() => toTaskDefinition({ payload: {} }, { taskId: 'has space', now })).toThrow(
      /must be 1-64 characters/,
    );
  });

  it('gives each task without an id its own nice slugid', () => {
    const ids = Array.from({ length: 20 }, () => toTaskDefinition({ payload: {} }, { now }).taskId);
    for (const id of ids)
      expect(id).toMatch(
        /^[A-Za-f][A-Za-z0-9_-]{7}[Q-T][A-Za-z0-9_-][CGKOSWaeimquy26-][A-Za-z0-9_-]{10}[AQgw]$/,
      );
    expect(new Set(ids).size).toBe(20);
  });
});
