import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, readdirSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { Clock } from '../clock.js';
import { TaskError } from '../errors.js';
import { FakeClock } from '../testing/fake-clock.js';
import { httpError, MemoryQueue } from '../testing/memory-queue.js';
import { createQueueSink, type QueueSink } from './queue-sink.js';

const TASK = 'sinkTask000000000000AA';
const EXPIRES = new Date(Date.UTC(2026, 1, 1));
const TEXT = { contentType: 'text/plain', expires: EXPIRES };
const CLAIM_MS = 20 * 60_000;

interface Received {
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** A stand-in for S3: answers each PUT with the next status of `statuses` (then 200), records it. */
async function s3Server(
  statuses: number[] = [],
): Promise<{ server: Server; base: string; puts: Received[] }> {
  const puts: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      puts.push({ url: req.url ?? '', headers: req.headers, body });
      // S3 refuses a body whose length is not the signed Content-Length.
      const status = Number(req.headers['content-length']) === body.length ? (statuses.shift() ?? 200) : 400;
      res.writeHead(status).end(status === 200 ? '' : 'try again');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, puts };
}

const servers: Server[] = [];
const sinks: QueueSink[] = [];
afterEach(async () => {
  await Promise.all(sinks.splice(0).map((s) => s.close()));
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

async function setup(
  opts: { storageType?: 'object' | 's3'; concurrency?: number; putBase?: string; untilMs?: number } = {},
) {
  const fake = new FakeClock();
  // Backoff sleeps move the fake time on at once: retries cost no real time, and `until` still counts.
  const clock: Clock = {
    now: () => fake.now(),
    setTimer: (ms, fn) => fake.setTimer(ms, fn),
    sleep: (ms) => fake.advance(ms),
  };
  const memory = new MemoryQueue({
    now: () => fake.now(),
    putUrl: (taskId, runId, name) => `${opts.putBase ?? 'http://127.0.0.1:9'}/${taskId}/${runId}/${name}`,
  });
  const credentials = { clientId: 'task-client', accessToken: 'token' };
  const workDir = mkdtempSync(join(tmpdir(), 'queue-sink-test-'));
  const until = fake.now() + (opts.untilMs ?? CLAIM_MS);
  const sink = await createQueueSink({
    taskId: TASK,
    runId: 0,
    queue: () => memory.client(credentials),
    clients: memory.clients,
    storageType: opts.storageType ?? 'object',
    concurrency: opts.concurrency ?? 4,
    workDir,
    clock,
    log: pino({ level: 'silent' }),
    until: () => until,
  });
  sinks.push(sink);
  return { sink, memory, fake, workDir };
}

describe('queue sink, object storage', () => {
  it('creates the artifact, uploads the spooled bytes, then finishes it with the upload id', async () => {
    const { sink, memory, workDir } = await setup();
    const bytes = Buffer.from('hello artifact\n'.repeat(1000));
    const record = await sink.putFile('public/build/out.txt', Readable.from([bytes]), TEXT);
    expect(record.path).toBe(memory.clients.artifactUrl(TASK, 0, 'public/build/out.txt'));
    await sink.settle();

    expect(memory.calls.map((c) => c.method)).toEqual(['createArtifact', 'uploadObject', 'finishArtifact']);
    expect(memory.artifacts[0]?.body).toEqual({
      storageType: 'object',
      expires: EXPIRES.toISOString(),
      contentType: 'text/plain',
      contentLength: bytes.length,
    });
    const upload = memory.uploads[0];
    expect(upload?.bytes.equals(bytes)).toBe(true);
    expect(upload?.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(upload?.upload).toMatchObject({
      name: `t/${TASK}/0/public/build/out.txt`,
      contentLength: bytes.length,
      contentType: 'text/plain',
    });
    // The object service is called with the upload credentials createArtifact gave, not the task's.
    expect(memory.callsOf('uploadObject')[0]?.credentials.clientId).toBe(`object-upload-${TASK}`);
    const uploadId = upload?.upload.uploadId;
    expect(memory.callsOf('finishArtifact')[0]?.args).toEqual([
      TASK,
      '0',
      'public/build/out.txt',
      { uploadId },
    ]);
    expect(sink.records).toEqual([record]);
    // close removes the spool directory and every spooled file.
    await sink.close();
    expect(readdirSync(workDir)).toEqual([]);
  });

  it('does not gzip for the object service, even when asked', async () => {
    const { sink, memory } = await setup();
    await sink.putFile('public/logs/live_backing.log', Readable.from(['log line\n']), {
      ...TEXT,
      gzip: true,
    });
    await sink.settle();
    expect(memory.uploads[0]?.bytes.toString()).toBe('log line\n');
  });

  it('uploads at most `concurrency` files at once', async () => {
    const { sink, memory } = await setup({ concurrency: 2 });
    const releases: (() => void)[] = [];
    let inFlight = 0;
    let most = 0;
    const held = (): Promise<void> => {
      most = Math.max(most, ++inFlight);
      return new Promise<void>((r) => releases.push(r)).then(() => void inFlight--);
    };
    memory.next('uploadObject', held, held, held, held, held);
    for (let i = 0; i < 5; i++) await sink.putFile(`public/${i}.txt`, Readable.from([`file ${i}`]), TEXT);
    const settled = sink.settle();
    for (let released = 0; released < 5; released++) {
      await memory.waitFor('uploadObject', released + 1);
      expect(inFlight).toBeLessThanOrEqual(2);
      releases.shift()?.();
    }
    await settled;
    expect(most).toBe(2);
    expect(memory.callsOf('finishArtifact')).toHaveLength(5);
  });

  it('retries a createArtifact 500 and succeeds with one artifact', async () => {
    const { sink, memory } = await setup();
    memory.next('createArtifact', httpError(500), httpError(503));
    await sink.putFile('public/a.txt', Readable.from(['a']), TEXT);
    await sink.settle();
    expect(memory.callsOf('createArtifact')).toHaveLength(3);
    expect(memory.artifacts).toHaveLength(1);
    expect(memory.callsOf('finishArtifact')).toHaveLength(1);
  });

  it('a queue that never answers before `until` fails the upload as resource-unavailable', async () => {
    const { sink, memory } = await setup({ untilMs: 30_000 });
    memory.next('createArtifact', ...Array.from({ length: 50 }, () => httpError(500)));
    await sink.putFile('public/a.txt', Readable.from(['a']), TEXT);
    const err = await sink.settle().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TaskError);
    expect(err).toMatchObject({ resolution: 'resource-unavailable' });
    expect((err as Error).message).toContain('createArtifact public/a.txt');
    expect(sink.records).toEqual([]);
    // A later settle() does not report the same failure twice.
    await expect(sink.settle()).resolves.toBeUndefined();
  });
});

describe('queue sink, s3 storage', () => {
  it('PUTs the file with the signed Content-Type and a Content-Length', async () => {
    const s3 = await s3Server();
    servers.push(s3.server);
    const { sink, memory } = await setup({ storageType: 's3', putBase: s3.base });
    const body = 'x'.repeat(100_000);
    await sink.putFile('public/data.json', Readable.from([body]), {
      contentType: 'application/json',
      expires: EXPIRES,
    });
    await sink.settle();
    expect(memory.artifacts[0]?.body).toMatchObject({
      storageType: 's3',
      contentType: 'application/json',
      contentLength: 100_000,
    });
    expect(s3.puts).toHaveLength(1);
    const put = s3.puts[0];
    expect(put?.url).toBe(`/${TASK}/0/public/data.json`);
    expect(put?.headers['content-type']).toBe('application/json');
    expect(put?.headers['content-length']).toBe('100000');
    expect(put?.headers['content-encoding']).toBeUndefined();
    expect(put?.body.toString()).toBe(body);
  });

  it('stores a gzip:true file gzipped, with Content-Encoding gzip and the gzipped length', async () => {
    const s3 = await s3Server();
    servers.push(s3.server);
    const { sink, memory } = await setup({ storageType: 's3', putBase: s3.base });
    const text = 'a log line that compresses well\n'.repeat(2000);
    await sink.putFile('public/logs/live_backing.log', Readable.from([text]), { ...TEXT, gzip: true });
    await sink.settle();
    const put = s3.puts[0];
    expect(put?.headers['content-encoding']).toBe('gzip');
    expect(put?.headers['content-type']).toBe('text/plain');
    expect(gunzipSync(put?.body ?? Buffer.alloc(0)).toString()).toBe(text);
    expect(put?.body.length).toBeLessThan(text.length);
    expect(memory.artifacts[0]?.body).toMatchObject({ contentLength: put?.body.length });
  });

  it('retries a 500 on the same putUrl without asking the queue again', async () => {
    const s3 = await s3Server([500, 500]);
    servers.push(s3.server);
    const { sink, memory } = await setup({ storageType: 's3', putBase: s3.base });
    await sink.putFile('public/a.txt', Readable.from(['retried body']), TEXT);
    await sink.settle();
    expect(s3.puts.map((p) => p.url)).toEqual([
      `/${TASK}/0/public/a.txt`,
      `/${TASK}/0/public/a.txt`,
      `/${TASK}/0/public/a.txt`,
    ]);
    expect(s3.puts.map((p) => p.body.toString())).toEqual(['retried body', 'retried body', 'retried body']);
    expect(memory.callsOf('createArtifact')).toHaveLength(1);
    expect(sink.records.map((r) => r.name)).toEqual(['public/a.txt']);
  });

  it('an S3 that answers 500 past `until` fails settle() with resource-unavailable', async () => {
    const s3 = await s3Server(Array.from({ length: 50 }, () => 500));
    servers.push(s3.server);
    const { sink, fake } = await setup({ storageType: 's3', putBase: s3.base, untilMs: 30_000 });
    const start = fake.now();
    await sink.putFile('public/a.txt', Readable.from(['a']), TEXT);
    const err = await sink.settle().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TaskError);
    expect(err).toMatchObject({ resolution: 'resource-unavailable' });
    expect((err as Error).message).toContain('Error uploading "public/a.txt" artifact');
    expect(s3.puts.length).toBeGreaterThan(2);
    expect(fake.now() - start).toBeLessThanOrEqual(30_000);
    expect(sink.records).toEqual([]);
  });

  it('a 403 from S3 is not retried', async () => {
    const s3 = await s3Server([403]);
    servers.push(s3.server);
    const { sink } = await setup({ storageType: 's3', putBase: s3.base });
    await sink.putFile('public/a.txt', Readable.from(['a']), TEXT);
    await expect(sink.settle()).rejects.toMatchObject({ resolution: 'resource-unavailable' });
    expect(s3.puts).toHaveLength(1);
  });
});

describe('queue sink, records without a body', () => {
  it('putError creates an error artifact with the reason and message', async () => {
    const { sink, memory } = await setup();
    const record = await sink.putError('public/missing.txt', {
      reason: 'file-missing-on-worker',
      message: 'no such file /out/missing.txt',
      expires: EXPIRES,
    });
    expect(memory.artifacts[0]?.body).toEqual({
      storageType: 'error',
      expires: EXPIRES.toISOString(),
      reason: 'file-missing-on-worker',
      message: 'no such file /out/missing.txt',
    });
    expect(sink.errors).toEqual([record]);
  });

  it('putReference and putLink create reference and link artifacts', async () => {
    const { sink, memory } = await setup();
    await sink.putReference('public/logs/live.log', 'https://worker.example:60023/log/abc', TEXT);
    await sink.putLink('public/logs/live.log', 'public/logs/live_backing.log', TEXT);
    expect(memory.artifacts.map((a) => [a.name, a.body])).toEqual([
      [
        'public/logs/live.log',
        {
          storageType: 'reference',
          expires: EXPIRES.toISOString(),
          contentType: 'text/plain',
          url: 'https://worker.example:60023/log/abc',
        },
      ],
      [
        'public/logs/live.log',
        {
          storageType: 'link',
          expires: EXPIRES.toISOString(),
          contentType: 'text/plain',
          artifact: 'public/logs/live_backing.log',
        },
      ],
    ]);
  });

  it('a createArtifact the queue refuses (400) is malformed-payload, not retried', async () => {
    const { sink, memory } = await setup();
    memory.next('createArtifact', httpError(400, 'artifact name is invalid'));
    await expect(sink.putLink('public/x', 'public/y', TEXT)).rejects.toMatchObject({
      resolution: 'malformed-payload',
    });
    expect(memory.callsOf('createArtifact')).toHaveLength(1);
  });
});
