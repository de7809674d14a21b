import { afterEach, describe, expect, it, vi } from 'vitest';
import { request } from 'node:http';
import type { FakeTaskcluster } from '../server.js';
import { slugid } from '../ids.js';
import { signedFetch } from '../testing/signed-fetch.js';
import {
  ADMIN,
  CLAIM_BODY,
  QUEUE_ID,
  WORKER,
  createAndClaim,
  queueAs,
  rejection,
  startQueue,
  taskDef,
} from '../testing/harness.js';

let tc: FakeTaskcluster;
afterEach(async () => {
  await tc?.close();
});

describe('createTask → claimWork → reclaim → resolve', () => {
  it('fills defaults, claims with real task credentials, reclaims with new ones, and completes', async () => {
    tc = await startQueue();
    const admin = queueAs(tc, ADMIN);
    const taskId = slugid();
    const { status } = await admin.createTask(taskId, taskDef());
    expect(status).toMatchObject({
      taskId,
      state: 'pending',
      retriesLeft: 5,
      runs: [{ runId: 0, state: 'pending', reasonCreated: 'scheduled' }],
    });
    const task = await admin.task(taskId);
    expect(task).toMatchObject({
      priority: 'lowest',
      retries: 5,
      provisionerId: 'prov-1',
      workerType: 'wt-1',
      schedulerId: '-',
      projectId: 'none',
      taskGroupId: taskId,
    });

    const { tasks } = await queueAs(tc, WORKER).claimWork(QUEUE_ID, CLAIM_BODY);
    expect(tasks).toHaveLength(1);
    const claim = tasks[0]!;
    expect(claim).toMatchObject({
      runId: 0,
      workerGroup: 'wg-1',
      workerId: 'w-1',
      task: { payload: { image: 'debian' } },
    });
    const until = Date.parse(claim.takenUntil);
    expect(claim.credentials.clientId).toBe(`task-client/${taskId}/0/on/wg-1/w-1/until/${until / 1000}`);
    const cert = JSON.parse(claim.credentials.certificate) as {
      scopes: string[];
      expiry: number;
      issuer: string;
    };
    expect(cert).toMatchObject({ issuer: 'static/taskcluster/queue', expiry: until });
    expect(cert.scopes).toEqual([
      `queue:reclaim-task:${taskId}/0`,
      `queue:resolve-task:${taskId}/0`,
      `queue:create-artifact:${taskId}/0`,
      'secrets:get:x',
    ]);

    const asTask = queueAs(tc, claim.credentials);
    const reclaimed = await asTask.reclaimTask(taskId, 0);
    expect(reclaimed).not.toHaveProperty('task');
    expect(reclaimed.credentials.clientId).toMatch(new RegExp(`^task-client/${taskId}/0/on/wg-1/w-1/until/`));
    expect(tc.requests.at(-1)).toMatchObject({ clientId: claim.credentials.clientId, status: 200 });

    const done = await queueAs(tc, reclaimed.credentials).reportCompleted(taskId, 0);
    expect(done.status.state).toBe('completed');
    // idempotent, but failing a completed run conflicts
    expect((await asTask.reportCompleted(taskId, 0)).status.runs[0]?.state).toBe('completed');
    expect((await rejection(asTask.reportFailed(taskId, 0))).statusCode).toBe(409);
    expect((await rejection(asTask.reclaimTask(taskId, 0))).statusCode).toBe(409);
  });

  it("task credentials cannot touch another task's run", async () => {
    tc = await startQueue();
    const a = await createAndClaim(tc);
    const b = await createAndClaim(tc);
    const err = await rejection(queueAs(tc, a.claim.credentials).reclaimTask(b.taskId, 0));
    expect(err).toMatchObject({ statusCode: 403, code: 'InsufficientScopes' });
    expect(err.message).toContain(`queue:reclaim-task:${b.taskId}/0`);
  });

  it('reportException worker-shutdown retries (reasonCreated retry); malformed-payload does not', async () => {
    tc = await startQueue();
    const { taskId, claim } = await createAndClaim(tc);
    const { status } = await queueAs(tc, claim.credentials).reportException(taskId, 0, {
      reason: 'worker-shutdown',
    });
    expect(status.runs.map((r) => [r.state, r.reasonCreated, r.reasonResolved])).toEqual([
      ['exception', 'scheduled', 'worker-shutdown'],
      ['pending', 'retry', undefined],
    ]);
    expect(status.retriesLeft).toBe(4);
    const second = await createAndClaim(tc, { priority: 'highest' });
    const res = await queueAs(tc, second.claim.credentials).reportException(second.taskId, 0, {
      reason: 'malformed-payload',
    });
    expect(res.status).toMatchObject({ state: 'exception', runs: [{ reasonResolved: 'malformed-payload' }] });
    expect(
      (
        await rejection(
          queueAs(tc, second.claim.credentials).reportException(second.taskId, 0, { reason: 'superseded' }),
        )
      ).statusCode,
    ).toBe(400);
  });

  it('cancelTask makes the running run exception/canceled and the next reclaim 409', async () => {
    tc = await startQueue();
    const { taskId, claim } = await createAndClaim(tc);
    const { status } = await queueAs(tc, ADMIN).cancelTask(taskId);
    expect(status.runs[0]).toMatchObject({ state: 'exception', reasonResolved: 'canceled' });
    const err = await rejection(queueAs(tc, claim.credentials).reclaimTask(taskId, 0));
    expect(err).toMatchObject({ statusCode: 409, code: 'RequestConflict' });
  });
});

describe('claimWork', () => {
  it('returns as soon as a task is created during the wait, and [] when none comes', async () => {
    tc = await startQueue({ claimWorkWaitMs: 10_000 });
    const worker = queueAs(tc, WORKER);
    const waiting = worker.claimWork(QUEUE_ID, CLAIM_BODY);
    await vi.waitFor(() => expect(tc.requests.length).toBe(0));
    const taskId = slugid();
    await queueAs(tc, ADMIN).createTask(taskId, taskDef());
    const { tasks } = await waiting;
    expect(tasks.map((t) => t.status.taskId)).toEqual([taskId]);
    await tc.close();
    tc = await startQueue({ claimWorkWaitMs: 50 });
    expect(await queueAs(tc, WORKER).claimWork(QUEUE_ID, CLAIM_BODY)).toEqual({ tasks: [] });
  });

  it('accepts prov/wt unencoded, refuses a worker without claim-work scope and extra keys', async () => {
    tc = await startQueue({ claimWorkWaitMs: 0 });
    const taskId = slugid();
    await queueAs(tc, ADMIN).createTask(taskId, taskDef());
    const other = {
      clientId: 'other',
      accessToken: 'other-token-0123456789',
      scopes: ['queue:worker-id:wg-1/w-1'],
    };
    tc.store.addClient(other);
    const refused = await rejection(queueAs(tc, other).claimWork(QUEUE_ID, CLAIM_BODY));
    expect(refused).toMatchObject({ statusCode: 403, code: 'InsufficientScopes' });
    expect(refused.message).toContain(`queue:claim-work:${QUEUE_ID}`);
    const extra = await rejection(queueAs(tc, WORKER).claimWork(QUEUE_ID, { ...CLAIM_BODY, capacity: 2 }));
    expect(extra).toMatchObject({ statusCode: 400, code: 'InputValidationError' });
    const raw = await signedFetch(`${tc.rootUrl}/api/queue/v1/claim-work/${QUEUE_ID}`, WORKER, CLAIM_BODY);
    expect(raw.status).toBe(200);
    expect(((await raw.json()) as { tasks: unknown[] }).tasks).toHaveLength(1);
    const tooMany = await rejection(queueAs(tc, WORKER).claimWork(QUEUE_ID, { ...CLAIM_BODY, tasks: 33 }));
    expect(tooMany.statusCode).toBe(400);
    expect(tc.queue.statusOf(taskId)?.state).toBe('running');
  });

  it('does not claim for a client that disconnected mid-poll', async () => {
    tc = await startQueue({ claimWorkWaitMs: 10_000 });
    const body = JSON.stringify(CLAIM_BODY);
    // anonymous is enough to be refused later, so sign as the worker through the client's own URL
    const signed = new URL(`${tc.rootUrl}/api/queue/v1/claim-work/${encodeURIComponent(QUEUE_ID)}`);
    const { default: hawk } = await import('hawk');
    const { header } = hawk.client.header(signed.href, 'POST', {
      credentials: { id: WORKER.clientId, key: WORKER.accessToken, algorithm: 'sha256' },
    });
    const req = request(signed, {
      method: 'POST',
      headers: { authorization: header, 'content-type': 'application/json' },
    });
    req.on('error', () => {});
    req.end(body);
    await vi.waitFor(() => expect(tc.requests).toEqual([]), { timeout: 200 });
    await new Promise((r) => setTimeout(r, 50)); // let the poll start
    req.destroy();
    await vi.waitFor(() => expect(tc.requests).toHaveLength(0));
    const taskId = slugid();
    await queueAs(tc, ADMIN).createTask(taskId, taskDef());
    expect(tc.queue.statusOf(taskId)?.state).toBe('pending');
    const { tasks } = await queueAs(tc, WORKER).claimWork(QUEUE_ID, CLAIM_BODY);
    expect(tasks.map((t) => t.status.taskId)).toEqual([taskId]);
  });
});

describe('claim expiry and deadlines', () => {
  it('an unreclaimed claim resolves exception/claim-expired and a retry run is pending (real time)', async () => {
    tc = await startQueue({ claimTimeoutSeconds: 1, sweepIntervalMs: 50 });
    const { taskId } = await createAndClaim(tc);
    await vi.waitFor(() => expect(tc.queue.statusOf(taskId)?.runs).toHaveLength(2), {
      timeout: 5000,
      interval: 50,
    });
    expect(tc.queue.statusOf(taskId)?.runs.map((r) => [r.state, r.reasonCreated, r.reasonResolved])).toEqual([
      ['exception', 'scheduled', 'claim-expired'],
      ['pending', 'retry', undefined],
    ]);
  });

  it('follows the injected clock: claim expiry with retries 0 resolves the task; deadline ⇒ deadline-exceeded', async () => {
    let now = Date.now();
    tc = await startQueue({ now: () => now, claimTimeoutSeconds: 60 });
    const { taskId, claim } = await createAndClaim(tc, { retries: 0 });
    now += 61 * 1000;
    expect((await rejection(queueAs(tc, claim.credentials).reportCompleted(taskId, 0))).statusCode).toBe(409);
    expect(tc.queue.statusOf(taskId)).toMatchObject({
      state: 'exception',
      runs: [{ reasonResolved: 'claim-expired' }],
    });
    const late = slugid();
    await queueAs(tc, ADMIN).createTask(late, taskDef({}, now));
    now += 61 * 60 * 1000;
    tc.queue.sweep();
    expect(tc.queue.statusOf(late)).toMatchObject({
      state: 'exception',
      runs: [{ reasonResolved: 'deadline-exceeded' }],
    });
  });
});

describe('createTask checks', () => {
  it('needs the priority, project and scheduler scopes and the task scopes; validates strictly', async () => {
    tc = await startQueue();
    const creator = {
      clientId: 'creator',
      accessToken: 'creator-token-0123456789',
      scopes: [
        `queue:create-task:high:${QUEUE_ID}`,
        'queue:create-task:project:none',
        'queue:scheduler-id:-',
      ],
    };
    tc.store.addClient(creator);
    const q = queueAs(tc, creator);
    expect((await q.createTask(slugid(), taskDef({ scopes: [], priority: 'low' }))).status.state).toBe(
      'pending',
    );
    const missing = await rejection(q.createTask(slugid(), taskDef({ scopes: ['secrets:get:x'] })));
    expect(missing).toMatchObject({ statusCode: 403, code: 'InsufficientScopes' });
    expect(
      (await rejection(q.createTask(slugid(), taskDef({ scopes: [], priority: 'highest' })))).statusCode,
    ).toBe(403);
    expect((await rejection(q.createTask(slugid(), taskDef({ scopes: [], bogus: 1 })))).code).toBe(
      'InputValidationError',
    );
    expect((await rejection(q.createTask('not-a-slug', taskDef()))).code).toBe('InvalidRequestArguments');
    const past = taskDef({ scopes: [], deadline: new Date(Date.now() - 1000).toJSON() });
    expect((await rejection(q.createTask(slugid(), past))).code).toBe('InputError');
    const taskId = slugid();
    const def = taskDef();
    await queueAs(tc, ADMIN).createTask(taskId, def);
    expect((await queueAs(tc, ADMIN).createTask(taskId, def)).status.taskId).toBe(taskId);
    expect((await rejection(queueAs(tc, ADMIN).createTask(taskId, { ...def, retries: 1 }))).statusCode).toBe(
      409,
    );
  });
});
