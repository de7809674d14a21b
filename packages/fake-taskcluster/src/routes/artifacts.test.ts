import { afterEach, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import taskcluster from 'taskcluster-client';
import type { FakeTaskcluster } from '../server.js';
import { createAndClaim, queueAs, rejection, startQueue } from '../testing/harness.js';

let tc: FakeTaskcluster;
afterEach(async () => {
  await tc?.close();
});

const inAnHour = () => new Date(Date.now() + 60 * 60 * 1000).toJSON();
const artifactPath = (taskId: string, name: string) =>
  `${tc.rootUrl}/api/queue/v1/task/${taskId}/runs/0/artifacts/${encodeURIComponent(name)}`;

function sink(): { stream: Writable; bytes: () => Buffer } {
  const chunks: Buffer[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk);
      done();
    },
  });
  return { stream, bytes: () => Buffer.concat(chunks) };
}

describe('object artifacts', () => {
  it('createArtifact → taskcluster.upload (putUrl) → finishArtifact → downloadArtifact and a 303 GET', async () => {
    tc = await startQueue();
    const { taskId, claim } = await createAndClaim(tc);
    const queue = queueAs(tc, claim.credentials);
    const data = Buffer.alloc(100_000, 7);
    const name = 'public/build/target.bin';
    const res = await queue.createArtifact(taskId, 0, name, {
      storageType: 'object',
      expires: inAnHour(),
      contentType: 'application/x-bin',
    });
    expect(res).toMatchObject({ storageType: 'object', name: `t/${taskId}/0/${name}`, projectId: 'none' });
    const object = new taskcluster.Object({
      rootUrl: tc.rootUrl,
      credentials: res.credentials as never,
      retries: 0,
    });
    const early = await rejection(queue.finishArtifact(taskId, 0, name, { uploadId: res.uploadId }));
    expect(early).toMatchObject({ statusCode: 400 });
    await taskcluster.upload({
      projectId: 'none',
      name: String(res.name),
      contentType: 'application/x-bin',
      contentLength: data.length,
      expires: new Date(String(res.expires)),
      object,
      uploadId: String(res.uploadId),
      streamFactory: () => Readable.from([data]),
      retries: 0,
    });
    await queue.finishArtifact(taskId, 0, name, { uploadId: res.uploadId });
    await queue.reportCompleted(taskId, 0);

    const out = sink();
    const contentType = await taskcluster.downloadArtifact({
      taskId,
      runId: 0,
      name,
      queue,
      streamFactory: () => out.stream,
      retries: 0,
    });
    expect(contentType).toBe('application/x-bin');
    expect(out.bytes().equals(data)).toBe(true);
    const meta = await object.object(String(res.name)).catch((e: Error) => e);
    expect(meta).toBeInstanceOf(Error); // upload credentials do not grant object:download
    const anonymous = await fetch(artifactPath(taskId, name), { redirect: 'manual' });
    expect(anonymous.status).toBe(303);
    expect(anonymous.headers.get('x-taskcluster-artifact-storage-type')).toBe('object');
    const bytes = await fetch(String(anonymous.headers.get('location')));
    expect(bytes.headers.get('content-type')).toBe('application/x-bin');
    expect(
      createHash('sha256')
        .update(Buffer.from(await bytes.arrayBuffer()))
        .digest('hex'),
    ).toBe(createHash('sha256').update(data).digest('hex'));
    expect(tc.queue.artifactsOf(taskId, 0)).toMatchObject([{ name, storageType: 'object', present: true }]);
  });

  it('object service: dataInline, conflicting hashes refused, a putUrl PUT with the wrong length is refused', async () => {
    tc = await startQueue();
    const { taskId, claim } = await createAndClaim(tc);
    const queue = queueAs(tc, claim.credentials);
    const res = await queue.createArtifact(taskId, 0, 'private/a.txt', {
      storageType: 'object',
      expires: inAnHour(),
      contentType: 'text/plain',
    });
    const object = new taskcluster.Object({
      rootUrl: tc.rootUrl,
      credentials: res.credentials as never,
      retries: 0,
    });
    const base = { projectId: 'none', uploadId: res.uploadId, expires: res.expires };
    const put = await object.createUpload(String(res.name), {
      ...base,
      proposedUploadMethods: { putUrl: { contentType: 'text/plain', contentLength: 5 } },
    });
    const { url, headers } = put.uploadMethod.putUrl as { url: string; headers: Record<string, string> };
    expect(Object.keys(headers).sort()).toEqual(['Content-Encoding', 'Content-Length', 'Content-Type']);
    expect(
      (await fetch(url, { method: 'PUT', headers: { 'content-type': 'text/plain' }, body: 'hello!' })).status,
    ).toBe(403);
    expect(
      (await fetch(url, { method: 'PUT', headers: { 'content-type': 'text/html' }, body: 'hello' })).status,
    ).toBe(403);
    const inline = await object.createUpload(String(res.name), {
      ...base,
      proposedUploadMethods: {
        dataInline: { contentType: 'text/plain', objectData: Buffer.from('hello').toString('base64') },
      },
    });
    expect(inline.uploadMethod).toEqual({ dataInline: true });
    const sha256 = createHash('sha256').update('hello').digest('hex');
    await object.finishUpload(String(res.name), { ...base, expires: undefined, hashes: { sha256 } } as never);
    await object.finishUpload(String(res.name), {
      projectId: 'none',
      uploadId: res.uploadId,
      hashes: { sha256 },
    });
    const conflict = await rejection(
      object.finishUpload(String(res.name), {
        projectId: 'none',
        uploadId: res.uploadId,
        hashes: { sha256: 'a'.repeat(64) },
      }),
    );
    expect(conflict.statusCode).toBe(409);
  });
});

describe('s3, reference, link and error artifacts', () => {
  it('s3: PUT checks Content-Type and Content-Length, keeps Content-Encoding; re-creation rules', async () => {
    tc = await startQueue();
    const { taskId, claim } = await createAndClaim(tc);
    const queue = queueAs(tc, claim.credentials);
    const name = 'public/logs/live_backing.log';
    const req = { storageType: 's3', expires: inAnHour(), contentType: 'text/plain; charset=utf-8' };
    const res = await queue.createArtifact(taskId, 0, name, req);
    expect(res).toMatchObject({ storageType: 's3', contentType: req.contentType });
    const putUrl = String(res.putUrl);
    const body = gzipSync('line 1\nline 2\n');
    expect(
      (await fetch(putUrl, { method: 'PUT', headers: { 'content-type': 'text/plain' }, body })).status,
    ).toBe(403);
    const chunked = await fetch(putUrl, {
      method: 'PUT',
      headers: { 'content-type': req.contentType },
      body: Readable.toWeb(Readable.from([body])) as ReadableStream,
      duplex: 'half',
    } as RequestInit);
    expect(chunked.status).toBe(411);
    const ok = await fetch(putUrl, {
      method: 'PUT',
      headers: { 'content-type': req.contentType, 'content-encoding': 'gzip' },
      body,
    });
    expect(ok.status).toBe(200);
    const redirect = await fetch(artifactPath(taskId, name), { redirect: 'manual' });
    expect(redirect.headers.get('x-taskcluster-artifact-storage-type')).toBe('s3');
    const got = await fetch(String(redirect.headers.get('location')));
    expect(got.headers.get('content-encoding')).toBe('gzip');
    expect(got.headers.get('content-type')).toBe(req.contentType);
    expect(await got.text()).toBe('line 1\nline 2\n'); // fetch decodes gzip

    expect((await queue.createArtifact(taskId, 0, name, req)).storageType).toBe('s3'); // same call again
    const other = await rejection(
      queue.createArtifact(taskId, 0, name, { ...req, contentType: 'text/html' }),
    );
    expect(other).toMatchObject({ statusCode: 409, code: 'RequestConflict' });
  });

  it('reference → 303, may become a link (followed), error → 424, cycles → 400, private needs the scope', async () => {
    tc = await startQueue();
    const { taskId, claim } = await createAndClaim(tc);
    const queue = queueAs(tc, claim.credentials);
    const expires = inAnHour();
    await queue.createArtifact(taskId, 0, 'public/logs/live.log', {
      storageType: 'reference',
      expires,
      url: 'http://worker:60023/log/abc',
      contentType: 'text/plain',
    });
    const ref = await fetch(artifactPath(taskId, 'public/logs/live.log'), { redirect: 'manual' });
    expect([
      ref.status,
      ref.headers.get('location'),
      ref.headers.get('x-taskcluster-artifact-storage-type'),
    ]).toEqual([303, 'http://worker:60023/log/abc', 'reference']);
    await queue.createArtifact(taskId, 0, 'public/logs/live.log', {
      storageType: 'reference',
      expires,
      url: 'http://worker:60023/log/def',
      contentType: 'text/plain',
    });
    await queue.createArtifact(taskId, 0, 'public/missing', {
      storageType: 'error',
      expires,
      reason: 'file-missing-on-worker',
      message: 'not there',
    });
    await queue.createArtifact(taskId, 0, 'public/logs/live.log', {
      storageType: 'link',
      expires,
      artifact: 'public/missing',
    });
    const linked = await fetch(artifactPath(taskId, 'public/logs/live.log'), { redirect: 'manual' });
    expect(linked.status).toBe(424);
    expect(linked.headers.get('x-taskcluster-artifact-storage-type')).toBe('error');
    expect(await linked.json()).toEqual({ reason: 'file-missing-on-worker', message: 'not there' });
    await queue.createArtifact(taskId, 0, 'public/a', { storageType: 'link', expires, artifact: 'public/b' });
    await queue.createArtifact(taskId, 0, 'public/b', { storageType: 'link', expires, artifact: 'public/a' });
    expect((await fetch(artifactPath(taskId, 'public/a'), { redirect: 'manual' })).status).toBe(400);
    await queue.createArtifact(taskId, 0, 'private/x', {
      storageType: 'reference',
      expires,
      url: 'http://example.com/x',
      contentType: 'text/plain',
    });
    expect((await fetch(artifactPath(taskId, 'private/x'), { redirect: 'manual' })).status).toBe(403);
    const relinked = await rejection(
      queue.createArtifact(taskId, 0, 'public/missing', { storageType: 'link', expires, artifact: 'x' }),
    );
    expect(relinked.statusCode).toBe(409);
    const { artifacts } = await queueAs(tc, {
      clientId: 'admin',
      accessToken: 'admin-token-0123456789',
    }).listArtifacts(taskId, 0, { limit: 2 });
    expect(artifacts).toHaveLength(2);
  });

  it('refuses artifacts expiring after the task, in the past, for an unknown run, or after completion', async () => {
    tc = await startQueue();
    const { taskId, claim } = await createAndClaim(tc);
    const queue = queueAs(tc, claim.credentials);
    const ref = { storageType: 'reference', url: 'http://example.com/', contentType: 'text/plain' };
    const late = await rejection(
      queue.createArtifact(taskId, 0, 'public/x', {
        ...ref,
        expires: new Date(Date.now() + 2 * 86_400_000).toJSON(),
      }),
    );
    expect(late).toMatchObject({ statusCode: 400, code: 'InputError' });
    const past = await rejection(
      queue.createArtifact(taskId, 0, 'public/x', {
        ...ref,
        expires: new Date(Date.now() - 16 * 60_000).toJSON(),
      }),
    );
    expect(past.message).toContain('Expires must be in the future');
    const extra = await rejection(
      queue.createArtifact(taskId, 0, 'public/x', { ...ref, expires: inAnHour(), size: 1 }),
    );
    expect(extra.code).toBe('InputValidationError');
    await queue.reportCompleted(taskId, 0);
    const after = await rejection(
      queue.createArtifact(taskId, 0, 'public/x', { ...ref, expires: inAnHour() }),
    );
    expect(after.statusCode).toBe(409);
  });
});
