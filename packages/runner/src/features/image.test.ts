// The image feature and its sources over FakeDocker's image engine; artifact images against a real
// fake-taskcluster (real routes, scopes, 404s and injected 500s) with taskcluster-client.
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import tarStream from 'tar-stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImageUsage } from '../images/image-usage.js';
import { taskImageName } from '../images/source.js';
import { fullImageName, parseImageName, registryAuth } from '../images/sources/registry.js';
import { taskImageSource } from '../images/sources/task-image.js';
import { buildConfig } from '../config.js';
import { DockerError } from '../docker/docker-client.js';
import { canceled } from '../errors.js';
import { payloadChecks } from './payload-checks.js';
import { assertScopes } from '../scopes.js';
import { FakeDocker } from '../testing/fake-docker.js';
import { fakeRun, fakeTask, startFeature, type FakeRunOptions } from '../testing/fake-run.js';
import { publishArtifact } from '../testing/publish-artifact.js';
import { image, imageName } from './image.js';

/** The parts of fake-taskcluster used here (imported by a string: its sources are not this package's to typecheck). */
interface FakeTaskcluster {
  rootUrl: string;
  faults: { fail(spec: { count?: number; match?: RegExp }): void; injected: number };
  close(): Promise<void>;
}
const FAKE: string = '@docker-worker/fake-taskcluster';
const startFakeTaskcluster = async (opts: Record<string, unknown>): Promise<FakeTaskcluster> =>
  (
    (await import(FAKE)) as { startFakeTaskcluster(o: unknown): Promise<FakeTaskcluster> }
  ).startFakeTaskcluster(opts);

const ADMIN = { clientId: 'admin', accessToken: 'admin-token-0123456789' };
const fast = { dockerConfig: { maxAttempts: 3, delayFactorMs: 0 } };
const logOf = async (run: ReturnType<typeof fakeRun>['run']): Promise<string> => {
  await run.liveLog.close();
  return readFileSync(run.liveLog.path, 'utf8');
};

/** A minimal docker-save tarball (tags included: the worker must strip them). */
async function saveTarball(marker: string): Promise<Buffer> {
  const pack = tarStream.pack();
  const config = JSON.stringify({ marker });
  pack.entry(
    { name: 'manifest.json' },
    JSON.stringify([{ Config: 'c.json', RepoTags: ['debian:latest'], Layers: [] }]),
  );
  pack.entry({ name: 'repositories' }, JSON.stringify({ debian: { latest: 'x' } }));
  pack.entry({ name: 'c.json' }, config);
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

describe('image: registry names', () => {
  it('names images from a string or a docker-image, none for artifact images', () => {
    expect(imageName('a:1')).toBe('a:1');
    expect(imageName({ type: 'docker-image', name: 'b:2' })).toBe('b:2');
    expect(imageName({ type: 'task-image', taskId: 't', path: 'public/i.tar' })).toBeUndefined();
  });

  it('parses hosts, tags and digests', () => {
    expect(parseImageName('debian')).toEqual({ repository: 'debian', host: 'docker.io' });
    expect(fullImageName(parseImageName('debian'))).toBe('debian:latest');
    expect(parseImageName('127.0.0.1:5000/team/app:3')).toEqual({
      repository: '127.0.0.1:5000/team/app',
      host: '127.0.0.1:5000',
      tag: '3',
    });
    const d = `sha256:${'a'.repeat(64)}`;
    expect(fullImageName(parseImageName(`quay.io/x/y@${d}`))).toBe(`quay.io/x/y@${d}`);
  });

  it('finds the credentials of the image registry, host/user winning over host', () => {
    const config = buildConfig({
      registries: {
        'reg.example': { username: 'u', password: 'p' },
        'reg.example/team': { username: 't', password: 'q' },
        'docker.io': { username: 'h', password: 'r' },
      },
    });
    expect(registryAuth(parseImageName('reg.example/team/app:1'), config)?.username).toBe('t');
    expect(registryAuth(parseImageName('reg.example/other/app:1'), config)?.username).toBe('u');
    expect(registryAuth(parseImageName('someone/app'), config)).toMatchObject({
      username: 'h',
      serveraddress: 'https://index.docker.io/v1/',
    });
    expect(registryAuth(parseImageName('quay.io/a/b'), config)).toBeUndefined();
  });

  it('needs docker-worker:image:<name> only for a registry the worker has credentials for', () => {
    const config = buildConfig({ registries: { 'reg.example': { username: 'u', password: 'p' } } });
    const task = (name: string) => fakeTask({ payload: { image: name } });
    expect(image.requiredScopes?.(task('reg.example/app'), config)).toEqual([
      ['docker-worker:image:reg.example/app:latest'],
    ]);
    expect(image.requiredScopes?.(task('debian:bookworm-slim'), config)).toEqual([]);
    expect(() =>
      assertScopes([], image.requiredScopes?.(task('reg.example/app'), config) ?? [], 'image'),
    ).toThrow(/Try adding docker-worker:image:reg.example\/app:latest/);
  });

  it('refuses the reserved name of task images (payload check)', () => {
    const problems = payloadChecks(fakeTask({ payload: { image: 'docker-worker-task-image:abc' } }));
    expect(problems).toEqual([
      expect.stringMatching(/^\/image: the name "docker-worker-task-image:abc" is reserved/),
    ]);
  });

  it('does not pull an image that is there, and records nothing for it', async () => {
    const docker = new FakeDocker();
    const imageUsage = ImageUsage.memory();
    const { run } = fakeRun({ docker, imageUsage });
    expect((await startFeature(image, run)).contribution).toEqual({ image: 'sha256:debian:bookworm-slim' });
    expect(docker.imageEngine.pulls).toEqual([]);
    expect(imageUsage.list()).toEqual([]);
  });

  it('pulls with the registry credentials and runs the image the pulled digest names, not the tag', async () => {
    const docker = new FakeDocker();
    const digest = `sha256:${'d'.repeat(64)}`;
    docker.imageEngine.pull = async (name, opts) => {
      docker.imageEngine.pulls.push({ name, ...(opts?.auth ? { auth: opts.auth } : {}) });
      opts?.onEvent?.({ id: 'abc123', status: 'Downloading', current: 5, total: 10 });
      opts?.onEvent?.({ id: 'abc123', status: 'Pull complete' });
      docker.images.add(name).add(`reg.example/app@${digest}`);
      return digest;
    };
    const imageUsage = ImageUsage.memory();
    const { run } = fakeRun({
      docker,
      imageUsage,
      payload: { image: { type: 'docker-image', name: 'reg.example/app:1' } },
      config: { registries: { 'reg.example': { username: 'u', password: 'secret-pw' } } },
    });
    expect((await startFeature(image, run)).contribution).toEqual({
      image: `sha256:reg.example/app@${digest}`,
    });
    expect(docker.imageEngine.pulls).toEqual([
      {
        name: 'reg.example/app:1',
        auth: { username: 'u', password: 'secret-pw', serveraddress: 'reg.example' },
      },
    ]);
    expect(imageUsage.list()).toMatchObject([{ id: `sha256:reg.example/app@${digest}`, source: 'pull' }]);
    const log = await logOf(run);
    expect(log).toMatch(
      /\] Pulling docker image reg\.example\/app:1\n.*\] {3}abc123: Downloading\n.*\] {3}abc123: Pull complete\n/,
    );
    expect(log).toContain(`Image: reg.example/app:1 (reg.example/app@${digest})`);
    expect(log).not.toContain('secret-pw');
  });

  it('fails the task with the engine reason when the registry has no such image (no retry)', async () => {
    const docker = new FakeDocker();
    const { run } = fakeRun({ docker, payload: { image: 'nowhere/none:1' }, config: fast });
    await expect(image.start(run)).rejects.toMatchObject({
      resolution: 'failed',
      message: 'Pulling docker image nowhere/none:1 has failed: pull access denied for nowhere/none:1',
    });
    expect(docker.imageEngine.pulls).toHaveLength(1);
  });

  it('retries a pull the engine could not do (5xx), then is resource-unavailable', async () => {
    const docker = new FakeDocker();
    let calls = 0;
    docker.imageEngine.pull = async () => {
      calls++;
      throw new DockerError('pull image', 500, 'dial tcp: connection refused');
    };
    const { run } = fakeRun({ docker, payload: { image: 'reg.example/app:1' }, config: fast });
    await expect(image.start(run)).rejects.toMatchObject({
      resolution: 'resource-unavailable',
      message:
        'Pulling docker image reg.example/app:1 has failed after 3 attempts: dial tcp: connection refused',
    });
    expect(calls).toBe(3);
    expect(await logOf(run)).toMatch(
      /failed \(attempt 2\): dial tcp: connection refused; retrying in 0\.0 s/,
    );
  });
});

describe('image: cancel', () => {
  it('a cancel during a pull ends it (the engine call gets the run signal) and resolves with the cancel', async () => {
    const docker = new FakeDocker();
    let pulling: () => void = () => undefined;
    const started = new Promise<void>((r) => (pulling = r));
    docker.imageEngine.pull = (_name, opts) =>
      new Promise((_resolve, reject) => {
        opts?.signal?.addEventListener('abort', () => reject(new Error('aborted by the signal')));
        pulling();
      });
    const { run } = fakeRun({ docker, payload: { image: 'reg.example/app:1' }, config: fast });
    const result = image.start(run);
    await started;
    const reason = canceled('Task was canceled by another entity');
    run.abort(reason);
    await expect(result).rejects.toBe(reason);
  });
});

describe('image: task and indexed images against fake-taskcluster', () => {
  let tc: FakeTaskcluster;
  let tarball: Buffer;
  let publicTask: string;
  let privateTask: string;
  beforeAll(async () => {
    tc = await startFakeTaskcluster({ clients: [{ ...ADMIN, scopes: ['*'] }] });
    tarball = await saveTarball('one');
    const publish = (name: string, namespace?: string) =>
      publishArtifact({
        rootUrl: tc.rootUrl,
        credentials: ADMIN,
        name,
        bytes: tarball,
        ...(namespace ? { namespace } : {}),
      });
    publicTask = await publish('public/image.tar', 'project.images.base');
    privateTask = await publish('private/image.tar');
  });
  afterAll(() => tc.close());

  const runOf = (imageRef: unknown, opts: FakeRunOptions = {}) =>
    fakeRun({
      rootUrl: tc.rootUrl,
      credentials: ADMIN,
      config: fast,
      payload: { image: imageRef } as FakeRunOptions['payload'],
      ...opts,
    });

  it('loads a task image with its tags stripped, tags it with the reserved name, and reuses it', async () => {
    const docker = new FakeDocker();
    const imageUsage = ImageUsage.memory();
    const ref = { type: 'task-image', taskId: publicTask, path: 'public/image.tar' };
    const first = runOf(ref, { docker, imageUsage });
    const { contribution } = await startFeature(image, first.run);
    expect(docker.imageEngine.loads).toHaveLength(1);
    const loaded = docker.imageEngine.loads[0]!.toString('latin1');
    expect(loaded).not.toContain('debian:latest');
    expect(loaded).not.toContain('repositories');
    const name = taskImageName(tc.rootUrl, publicTask, 'public/image.tar');
    expect(docker.imageEngine.idOf(name)).toBe(contribution.image);
    expect(imageUsage.list()).toMatchObject([{ id: contribution.image, ref: name, source: 'load' }]);
    const log1 = await logOf(first.run);
    expect(log1).toContain(`Downloading artifact public/image.tar of task ${publicTask}`);
    expect(log1).toMatch(
      /Downloading and loading artifact public\/image\.tar of task \S+: \d+(\.\d)? KiB in/,
    );
    expect(log1).toContain(`Image: ${name} (${contribution.image})`);
    // The artifact's own hash (what chainOfTrust certifies), not the loaded image's id.
    const artifactSha256 = createHash('sha256').update(tarball).digest('hex');
    expect(first.run.imageArtifactSha256).toBe(artifactSha256);
    expect(`sha256:${artifactSha256}`).not.toBe(contribution.image);
    expect(imageUsage.list()[0]?.artifacts).toEqual({ [name]: artifactSha256 });

    const second = runOf(ref, { docker, imageUsage });
    expect((await startFeature(image, second.run)).contribution).toEqual(contribution);
    expect(docker.imageEngine.loads).toHaveLength(1); // nothing loaded again
    expect(await logOf(second.run)).toContain(
      `Reusing artifact public/image.tar of task ${publicTask}, loaded earlier`,
    );
    expect(second.run.imageArtifactSha256).toBe(artifactSha256);
  });

  it('a restarted worker reusing a task image still knows its artifact hash from <workDir>/image-usage.json', async () => {
    const workDir = mkdtempSync(join(tmpdir(), 'image-usage-'));
    const ref = { type: 'task-image', taskId: privateTask, path: 'private/image.tar' };
    const scopes = ['queue:get-artifact:private/image.tar'];
    const first = new FakeDocker();
    const before = runOf(ref, { docker: first, imageUsage: await ImageUsage.open(workDir), scopes });
    const { contribution } = await startFeature(image, before.run);
    const artifactSha256 = before.run.imageArtifactSha256;
    expect(artifactSha256).toBe(createHash('sha256').update(tarball).digest('hex'));

    // Another process: a new engine client (no memory of the load) over an engine with the image.
    const docker = new FakeDocker();
    const name = taskImageName(tc.rootUrl, privateTask, 'private/image.tar');
    const [repo, tag] = name.split(':') as [string, string];
    const id = await docker.imageEngine.load(Readable.from([first.imageEngine.loads[0]!]));
    await docker.imageEngine.tag(id, repo, tag);
    expect(id).toBe(contribution.image);
    const after = runOf(ref, { docker, imageUsage: await ImageUsage.open(workDir), scopes });
    expect((await startFeature(image, after.run)).contribution).toEqual(contribution);
    expect(docker.imageEngine.loads).toHaveLength(1); // the one made above: nothing downloaded
    expect(after.run.imageArtifactSha256).toBe(artifactSha256);

    // Without the record (an image the operator loaded by hand), nothing is claimed about its artifact.
    const unknown = runOf(ref, { docker, imageUsage: ImageUsage.memory(), scopes });
    await startFeature(image, unknown.run);
    expect(unknown.run.imageArtifactSha256).toBeUndefined();
  });

  it('two runs at the same time share one download', async () => {
    const docker = new FakeDocker();
    const ref = { type: 'task-image', taskId: publicTask, path: 'public/image.tar' };
    const [a, b] = [runOf(ref, { docker }), runOf(ref, { docker })];
    const [ca, cb] = await Promise.all([startFeature(image, a.run), startFeature(image, b.run)]);
    expect(ca.contribution).toEqual(cb.contribution);
    expect(docker.imageEngine.loads).toHaveLength(1);
    expect(await logOf(b.run)).toContain(`Waiting for another task's download of artifact public/image.tar`);
    expect(b.run.imageArtifactSha256).toBe(a.run.imageArtifactSha256);
    expect(a.run.imageArtifactSha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('needs queue:get-artifact:<path> for a name outside public/, and the queue holds the task to its scopes', async () => {
    const task = fakeTask({
      payload: { image: { type: 'task-image', taskId: privateTask, path: 'private/image.tar' } },
    });
    expect(image.requiredScopes?.(task, buildConfig({}))).toEqual([['queue:get-artifact:private/image.tar']]);
    // Past the worker's check, the queue still refuses it: the download uses only the task's scopes.
    const { run } = runOf({ type: 'task-image', taskId: privateTask, path: 'private/image.tar' });
    await expect(
      taskImageSource.resolve({ taskId: privateTask, path: 'private/image.tar' }, run),
    ).rejects.toMatchObject({
      resolution: 'malformed-payload',
      message: expect.stringMatching(
        /queue refused .*403.*needs the scope queue:get-artifact:private\/image\.tar$/,
      ),
    });
    const allowed = runOf(task.payload.image, { scopes: ['queue:get-artifact:private/*'] });
    expect((await startFeature(image, allowed.run)).contribution.image).toMatch(/^sha256:/);
  });

  it('a missing artifact is malformed-payload, loading nothing', async () => {
    const docker = new FakeDocker();
    const { run } = runOf(
      { type: 'task-image', taskId: publicTask, path: 'public/none.tar.zst' },
      { docker },
    );
    await expect(image.start(run)).rejects.toMatchObject({
      resolution: 'malformed-payload',
      message: expect.stringMatching(
        /artifact public\/none\.tar\.zst of task \S+ cannot be used \(404 Artifact not found\)/,
      ),
    });
    expect(docker.imageEngine.loads).toEqual([]);
  });

  it('refuses a path that is no docker save tarball name', async () => {
    const { run } = runOf({ type: 'task-image', taskId: publicTask, path: 'public/image.zip' });
    await expect(image.start(run)).rejects.toMatchObject({
      resolution: 'malformed-payload',
      message: expect.stringMatching(/must end in \.tar, \.tar\.zst or \.tar\.lz4/),
    });
  });

  it('retries the download when the queue answers 500, twice', async () => {
    tc.faults.fail({ count: 2, match: /\/artifacts\/public%2Fimage\.tar|\/artifacts\/public\/image\.tar/ });
    const before = tc.faults.injected;
    const docker = new FakeDocker();
    const { run } = runOf({ type: 'task-image', taskId: publicTask, path: 'public/image.tar' }, { docker });
    expect((await startFeature(image, run)).contribution.image).toMatch(/^sha256:/);
    expect(tc.faults.injected - before).toBe(2);
    expect(docker.imageEngine.loads).toHaveLength(1);
    expect(await logOf(run)).toMatch(/failed \(attempt 2\): 500 .*; retrying/);
  });

  it('gives up after dockerConfig.maxAttempts: resource-unavailable', async () => {
    tc.faults.fail({ count: 3, match: /\/artifacts\/public/ });
    const { run } = runOf({ type: 'task-image', taskId: publicTask, path: 'public/image.tar' });
    await expect(image.start(run)).rejects.toMatchObject({
      resolution: 'resource-unavailable',
      message: expect.stringMatching(/after 3 attempts: 500/),
    });
  });

  it('finds an indexed image with the task scopes (index:find-task:<namespace>)', async () => {
    const ref = { type: 'indexed-image', namespace: 'project.images.base', path: 'public/image.tar' };
    expect(image.requiredScopes?.(fakeTask({ payload: { image: ref } }), buildConfig({}))).toEqual([
      ['index:find-task:project.images.base'],
    ]);
    const { run } = runOf(ref, { scopes: ['index:find-task:project.images.*'] });
    expect((await startFeature(image, run)).contribution.image).toMatch(/^sha256:/);
    expect(await logOf(run)).toContain(`Index namespace project.images.base names task ${publicTask}`);
  });

  it('an index namespace with no task is malformed-payload', async () => {
    const { run } = runOf(
      { type: 'indexed-image', namespace: 'project.none', path: 'public/image.tar' },
      { scopes: ['index:find-task:*'] },
    );
    await expect(image.start(run)).rejects.toMatchObject({
      resolution: 'malformed-payload',
      message: expect.stringMatching(/no task is indexed at project\.none/),
    });
  });
});
