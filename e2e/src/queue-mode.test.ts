/**
 * Queue mode against fake-taskcluster and the real engine: `docker-worker start` claims tasks
 * created with taskcluster-client, runs them, uploads their artifacts and logs and resolves them.
 */
import taskcluster from 'taskcluster-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { docker, newSession } from './docker.js';
import { ADMIN, QueueSession } from './queue-harness.js';
import { sweepStaleSessions } from './runner-harness.js';

const sh = (script: string): string[] => ['/bin/sh', '-c', script];

let q: QueueSession;

beforeAll(async () => {
  q = await QueueSession.start(`e2e-queue-${newSession()}`);
  await sweepStaleSessions('e2e-queue-', q.workerId);
});

afterAll(async () => {
  await q?.close();
});

describe('docker-worker start --once', () => {
  it('claims a task, streams its live log while it runs (resumable), uploads artifacts and logs, completes', async () => {
    const taskId = await q.createTask({
      command: sh(
        'echo first-line; while [ ! -f /tmp/go ]; do sleep 0.1; done; mkdir -p /out/d; echo hello > /out/a.txt; echo x > /out/d/b.json; echo done-line',
      ),
      artifacts: {
        'public/a.txt': { type: 'file', path: '/out/a.txt' },
        'public/dir': { type: 'directory', path: '/out/d' },
        'public/missing': { type: 'file', path: '/nowhere' },
      },
    });
    const worker = await q.startWorker({}, ['--once']);
    const url = await q.liveLogUrl(taskId);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/log\/[A-Za-z0-9_-]{32}$/);

    // A reader sees a line the task printed before the task ends: the task waits for /tmp/go.
    const res = await fetch(url);
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    while (!text.includes('first-line\n')) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`the live log ended before the task printed: ${text}`);
      text += decoder.decode(value, { stream: true });
    }
    // Resume from byte 10 while it runs: the same bytes from there.
    const resumed = await fetch(url, { headers: { range: 'bytes=10-' } });
    expect(resumed.status).toBe(206);
    const resumedReader = resumed.body!.getReader();
    const { value: firstChunk } = await resumedReader.read();
    expect(decoder.decode(firstChunk)).toBe(
      Buffer.from(text)
        .subarray(10, 10 + firstChunk!.length)
        .toString(),
    );
    await resumedReader.cancel();
    // A wrong token is a 404.
    expect((await fetch(url.replace(/\/log\/.*/, '/log/not-a-token'))).status).toBe(404);

    const container = await q.taskContainer(taskId);
    const exec = await docker.getContainer(container).exec({ Cmd: ['touch', '/tmp/go'] });
    await exec.start({ Detach: true });
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
    expect(text).toContain('done-line\n');
    expect(text).toMatch(/Successful task run with exit code: 0 completed in/);

    expect(await worker.exited).toBe(0);
    expect(await q.resolved(taskId)).toBe('completed');
    expect(await q.artifact(taskId, 'public/a.txt')).toMatchObject({
      status: 200,
      type: 'text/plain',
      body: 'hello\n',
    });
    expect(await q.artifact(taskId, 'public/dir/b.json')).toMatchObject({ status: 200, body: 'x\n' });
    expect(await q.artifact(taskId, 'public/missing')).toMatchObject({ status: 424 });
    const live = await q.artifact(taskId, 'public/logs/live.log');
    // The reference became a link to the backing log (the queue serves the link's target).
    expect(live).toMatchObject({ status: 200, storage: 'object', type: 'text/plain; charset=utf-8' });
    const stored = q.tc.queue.artifactsOf(taskId, 0).find((a) => a.name === 'public/logs/live.log');
    expect(stored?.storageType).toBe('link');
    expect(live.body).toContain('first-line\ndone-line\n');
    expect(live.body.trimEnd().split('\n').at(-1)).toMatch(/Successful task run with exit code: 0/);
    const backing = await q.artifact(taskId, 'public/logs/live_backing.log');
    expect(backing.body).toBe(live.body);
    // Resolved after the uploads; reported once.
    const calls = q.callsFor(taskId);
    expect(calls.filter((c) => c.includes('/completed'))).toHaveLength(1);
    expect(calls.findIndex((c) => c.includes('/completed'))).toBe(calls.length - 1);
    // The log after the task: complete, so Range answers carry the total.
    expect(worker.stderr()).toMatch(/"msg":"task resolved"/);
    expect(worker.stderr()).not.toContain('worker-token-0123456789');
    expect(await q.leftovers(taskId)).toEqual({ containers: 0, networks: 0 });
  });

  it('resolves failed with exit status 1, and a malformed payload as exception/malformed-payload with its reasons', async () => {
    const failing = await q.createTask({ command: sh('echo oops; exit 3') });
    const w1 = await q.startWorker({}, ['--once']);
    expect(await w1.exited).toBe(1);
    expect(await q.resolved(failing)).toBe('failed');
    expect((await q.artifact(failing, 'public/logs/live.log')).body).toMatch(
      /oops\n[\s\S]*Unsuccessful task run with exit code: 3/,
    );

    const malformed = await q.createTask({ maxRunTime: 'soon', features: { nope: true } });
    const w2 = await q.startWorker({}, ['--once']);
    expect(await w2.exited).toBe(2);
    expect(await q.resolved(malformed)).toBe('exception/malformed-payload');
    const log = (await q.artifact(malformed, 'public/logs/live.log')).body;
    expect(log).toContain('`task.payload` format is invalid json schema errors:');
    expect(log).toContain('/maxRunTime: must be integer');
    expect(log).toContain('"nope" is not part of valid features');
  });

  it('honours the purge-cache service: a cache made before a purge request is gone for the next task', async () => {
    const withCache = (script: string) =>
      q.createTask(
        { command: sh(script), cache: { 'e2e-purged': '/c' } },
        { scopes: ['docker-worker:cache:e2e-purged'] },
      );
    const first = await withCache('echo kept > /c/marker');
    const w1 = await q.startWorker({}, ['--once']);
    expect(await w1.exited).toBe(0);
    expect(await q.resolved(first)).toBe('completed');
    const again = await withCache('cat /c/marker');
    const w2 = await q.startWorker({}, ['--once']);
    expect(await w2.exited).toBe(0);
    expect((await q.artifact(again, 'public/logs/live.log')).body).toContain('kept\n'); // a cache, kept
    // "Purge caches" (Treeherder, `taskcluster purge-cache`): the purge-cache service's request.
    const purge = new taskcluster.PurgeCache({ rootUrl: q.tc.rootUrl, credentials: ADMIN });
    await purge.purgeCache(q.taskQueueId, { cacheName: 'e2e-purged' });
    const after = await withCache('test ! -e /c/marker && echo fresh cache');
    const w3 = await q.startWorker({}, ['--once']);
    expect(await w3.exited).toBe(0);
    expect(await q.resolved(after)).toBe('completed');
    expect((await q.artifact(after, 'public/logs/live.log')).body).toContain('fresh cache');
    expect(w3.stderr()).toMatch(/"cacheName":"e2e-purged".*"done":"removed".*"msg":"cache purged"/);
  });

  it("takes a cache scope the task's assume: scope grants through a role (the worker expands it)", async () => {
    q.tc.store.addRole({ roleId: 'project:e2e:caches', scopes: ['docker-worker:cache:e2e-role-*'] });
    const taskId = await q.createTask(
      { command: sh('echo in the cache > /c/f && cat /c/f'), cache: { 'e2e-role-cache': '/c' } },
      { scopes: ['assume:project:e2e:caches'] },
    );
    const worker = await q.startWorker({}, ['--once']);
    expect(await worker.exited).toBe(0);
    expect(await q.resolved(taskId)).toBe('completed');
    expect((await q.artifact(taskId, 'public/logs/live.log')).body).toContain('in the cache');
  });

  it('uploads as s3 artifacts with the backing log and the bulk log gzip-encoded when configured', async () => {
    const taskId = await q.createTask({
      command: sh('mkdir -p /out; printf "s3 body" > /out/s.txt; echo logged'),
      artifacts: { 'public/s.txt': { type: 'file', path: '/out/s.txt' } },
      features: { bulkLog: true },
    });
    const worker = await q.startWorker({ artifacts: { storageType: 's3' } }, ['--once']);
    expect(await worker.exited).toBe(0);
    expect(await q.artifact(taskId, 'public/s.txt')).toMatchObject({
      status: 200,
      storage: 's3',
      body: 's3 body',
    });
    const backing = await q.artifact(taskId, 'public/logs/live_backing.log');
    expect(backing).toMatchObject({ status: 200, storage: 's3', encoding: 'gzip' });
    expect(backing.body).toContain('logged\n'); // fetch decoded the gzip
    // The bulk log as docker-worker stored it: text, gzip-encoded (a browser shows the text).
    const bulk = await q.artifact(taskId, 'public/logs/terminal_bulk.log.gz');
    expect(bulk).toMatchObject({
      status: 200,
      storage: 's3',
      encoding: 'gzip',
      type: 'text/plain; charset=utf-8',
    });
    expect(bulk.body).toContain('logged\n');
    expect(bulk.body).toMatch(/Successful task run with exit code: 0/);
    expect(
      q.tc.queue
        .artifactsOf(taskId, 0)
        .map((a) => `${a.name} ${a.storageType}`)
        .sort(),
    ).toEqual([
      'public/logs/live.log link',
      'public/logs/live_backing.log s3',
      'public/logs/terminal_bulk.log.gz s3',
      'public/s.txt s3',
    ]);
  });
});

describe('docker-worker start (a running worker)', () => {
  it('runs 6 tasks with capacity 3, never more than 3 at once', async () => {
    const ids = await Promise.all(Array.from({ length: 6 }, () => q.createTask({ command: sh('sleep 2') })));
    const worker = await q.startWorker({ capacity: 3 });
    for (const id of ids) expect(await q.resolved(id)).toBe('completed');
    worker.child.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
    const spans = ids.map((id) => {
      const run = q.tc.queue.statusOf(id)!.runs[0]!;
      return [Date.parse(run.started!), Date.parse(run.resolved!)] as const;
    });
    const most = Math.max(...spans.map(([s]) => spans.filter(([a, b]) => a <= s && s < b).length));
    expect(most).toBeLessThanOrEqual(3);
    expect(most).toBeGreaterThan(1); // they did run side by side
  });

  it('two tasks with the same cache at once get an instance each, as in docker-worker; a later one reuses one', async () => {
    // A task that finds another's mark in its cache fails: it would be sharing the checkout.
    const script = (n: string) =>
      sh(
        `if [ -e /c/busy ]; then echo SHARED; exit 1; fi; touch /c/busy; echo ${n} >> /c/seen; sleep 3; rm /c/busy; echo seen=$(cat /c/seen | tr '\\n' ,)`,
      );
    const task = (n: string) =>
      q.createTask(
        { command: script(n), cache: { 'e2e-shared': '/c' } },
        { scopes: ['docker-worker:cache:e2e-shared'] },
      );
    const ids = await Promise.all([task('one'), task('two')]);
    const worker = await q.startWorker({ capacity: 2 });
    for (const id of ids) expect(await q.resolved(id)).toBe('completed');
    const logs = await Promise.all(
      ids.map(async (id) => (await q.artifact(id, 'public/logs/live.log')).body),
    );
    expect(logs.map((l) => /seen=(\S*)/.exec(l)?.[1]).sort()).toEqual(['one,', 'two,']);
    expect(
      logs.filter((l) =>
        /using cache "e2e-shared" -> \/c \(volume \S+-cache-e2e-shared--[0-9a-f]{8}\)/.test(l),
      ),
    ).toHaveLength(1);
    // Both instances free again: the next task finds one of them with what its task left.
    const later = await task('three');
    expect(await q.resolved(later)).toBe('completed');
    expect((await q.artifact(later, 'public/logs/live.log')).body).toMatch(/seen=(one|two),three,/);
    worker.child.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
  });

  it('cancellation mid-run: the next reclaim gets 409, the container is killed, nothing more is uploaded or reported', async () => {
    const c = await QueueSession.start(`${q.workerId}-c`, { claimTimeoutSeconds: 4 });
    try {
      const taskId = await c.createTask({
        command: sh('echo started; sleep 300'),
        artifacts: { 'public/never': { type: 'file', path: '/etc/hostname' } },
      });
      const worker = await c.startWorker();
      await c.taskContainer(taskId);
      await c.admin.cancelTask(taskId);
      expect(await c.resolved(taskId)).toBe('exception/canceled');
      while ((await c.leftovers(taskId)).containers > 0) await new Promise((r) => setTimeout(r, 100));
      worker.child.kill('SIGTERM');
      expect(await worker.exited).toBe(0);
      const calls = c.callsFor(taskId);
      expect(calls.some((x) => /reclaim 409/.test(x))).toBe(true);
      expect(calls.filter((x) => /completed|failed|exception/.test(x))).toEqual([]);
      expect(c.tc.queue.artifactsOf(taskId, 0).map((a) => a.name)).toEqual(['public/logs/live.log']);
      expect(worker.stderr()).toMatch(/reclaim answered 409/);
      expect(await c.leftovers(taskId)).toEqual({ containers: 0, networks: 0 });
    } finally {
      await c.close();
    }
  });
});
