/**
 * @module testing/publish-artifact
 * Makes "a task that built an image" on a (fake) Taskcluster, as a worker would: creates a task on
 * its own queue, claims it, stores `bytes` as the artifact `name` (s3: the queue's putUrl), and
 * reports it completed. Optionally indexes it. Needs a client with `*` (the test's admin).
 */
import type { Credentials } from '../features/feature.js';

interface Queue {
  createTask(taskId: string, body: Record<string, unknown>): Promise<unknown>;
  claimWork(q: string, body: Record<string, unknown>): Promise<{ tasks: { runId: number }[] }>;
  createArtifact(
    taskId: string,
    runId: string,
    name: string,
    body: Record<string, unknown>,
  ): Promise<{ putUrl?: string }>;
  reportCompleted(taskId: string, runId: string): Promise<unknown>;
}
interface Module {
  Queue: new (o: Record<string, unknown>) => Queue;
  Index: new (o: Record<string, unknown>) => {
    insertTask(ns: string, body: Record<string, unknown>): Promise<unknown>;
  };
  slugid(): string;
}
const MODULE: string = 'taskcluster-client';

export async function publishArtifact(opts: {
  rootUrl: string;
  credentials: Credentials;
  name: string;
  bytes: Buffer;
  /** Also index the task at this namespace. */
  namespace?: string;
}): Promise<string> {
  const mod = (await import(MODULE)) as { default?: Module } & Module;
  const tc = mod.default ?? mod;
  const queue = new tc.Queue({ rootUrl: opts.rootUrl, credentials: opts.credentials, retries: 0 });
  const taskId = tc.slugid();
  const taskQueueId = `image-builder/${
    taskId
      .toLowerCase()
      .replace(/[^a-z0-9]/g, '')
      .slice(0, 20) || 'x'
  }`;
  const now = Date.now();
  const expires = new Date(now + 86_400_000).toJSON();
  await queue.createTask(taskId, {
    taskQueueId,
    created: new Date(now).toJSON(),
    deadline: new Date(now + 3_600_000).toJSON(),
    expires,
    payload: {},
    metadata: {
      name: 'image builder',
      description: 'docker save',
      owner: 'test@example.com',
      source: 'https://example.com',
    },
  });
  const { tasks } = await queue.claimWork(taskQueueId, {
    workerGroup: 'builder',
    workerId: 'builder',
    tasks: 1,
  });
  const runId = String(tasks[0]?.runId ?? 0);
  const { putUrl } = await queue.createArtifact(taskId, runId, opts.name, {
    storageType: 's3',
    expires,
    contentType: 'application/octet-stream',
  });
  const put = await fetch(putUrl ?? '', {
    method: 'PUT',
    body: opts.bytes,
    headers: { 'content-type': 'application/octet-stream', 'content-length': String(opts.bytes.length) },
  });
  if (!put.ok) throw new Error(`storing ${opts.name} answered ${put.status}: ${await put.text()}`);
  await queue.reportCompleted(taskId, runId);
  if (opts.namespace) {
    const index = new tc.Index({ rootUrl: opts.rootUrl, credentials: opts.credentials, retries: 0 });
    await index.insertTask(opts.namespace, { taskId, rank: 0, data: {}, expires });
  }
  return taskId;
}
