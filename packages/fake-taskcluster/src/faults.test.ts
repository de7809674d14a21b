import { afterEach, describe, expect, it } from 'vitest';
import type { FakeTaskcluster } from './server.js';
import taskcluster from 'taskcluster-client';
import { slugid } from './ids.js';
import { ADMIN, queueAs, rejection, startQueue } from './testing/harness.js';

let tc: FakeTaskcluster;
afterEach(async () => {
  await tc?.close();
});

describe('faults', () => {
  it('answers 500 with a Taskcluster error body for N matching requests, then normally', async () => {
    tc = await startQueue();
    tc.faults.fail({ count: 2, match: /\/ping$/ });
    const first = await fetch(`${tc.rootUrl}/api/queue/v1/ping`);
    expect(first.status).toBe(500);
    expect(await first.json()).toMatchObject({ code: 'InternalServerError', requestInfo: {} });
    expect((await fetch(`${tc.rootUrl}/api/auth/v1/ping`)).status).toBe(500);
    expect((await fetch(`${tc.rootUrl}/api/queue/v1/ping`)).status).toBe(200);
    // the client retries 5xx: one failure is absorbed
    tc.faults.fail({ count: 1 });
    const retrying = new taskcluster.Queue({ rootUrl: tc.rootUrl, credentials: ADMIN, retries: 2 });
    expect(await retrying.ping()).toMatchObject({ alive: true });
    expect(tc.faults.injected).toBe(3);
  });

  it('drops connections until cleared, and can answer another status', async () => {
    tc = await startQueue();
    tc.faults.fail({ drop: true, match: /\/task\// });
    const err = await rejection(queueAs(tc, ADMIN).status(slugid()));
    expect(err.statusCode).toBeUndefined();
    tc.faults.clear();
    expect((await rejection(queueAs(tc, ADMIN).status(slugid()))).statusCode).toBe(404);
    tc.faults.fail({ status: 503, forMs: 60_000 });
    expect((await fetch(`${tc.rootUrl}/api/queue/v1/ping`)).status).toBe(503);
  });
});

describe('index', () => {
  it('insertTask keeps the highest rank; findTask needs index:find-task and 404s unknown namespaces', async () => {
    tc = await startQueue();
    const index = new taskcluster.Index({ rootUrl: tc.rootUrl, credentials: ADMIN, retries: 0 });
    const [a, b] = [slugid(), slugid()];
    const expires = new Date(Date.now() + 3_600_000).toJSON();
    await index.insertTask('project.build.latest', { taskId: a, rank: 2, data: {}, expires });
    await index.insertTask('project.build.latest', { taskId: b, rank: 1, data: {}, expires });
    expect(await index.findTask('project.build.latest')).toMatchObject({ taskId: a, rank: 2 });
    tc.index.insert('project.other', { taskId: b, expires });
    expect((await index.findTask('project.other')).taskId).toBe(b);
    expect((await rejection(index.findTask('project.none'))).statusCode).toBe(404);
    const anonymous = new taskcluster.Index({ rootUrl: tc.rootUrl, retries: 0 });
    expect((await rejection(anonymous.findTask('project.other'))).statusCode).toBe(403);
    expect(
      (await rejection(index.insertTask('bad..ns', { taskId: a, rank: 0, data: {}, expires }))).statusCode,
    ).toBe(400);
  });
});
