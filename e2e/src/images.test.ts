/**
 * The image sources against the real engine (issue #13), through the runner library
 * (runInProcess: real engine, real clock) and a fake-taskcluster in the test process: a task image
 * in each format (`docker save` of an image this file commits, compressed test-side with the
 * zstd and lz4 CLIs) runs and prints from inside the image; the same image again loads nothing;
 * indexed-image through findTask; a 404 artifact is malformed-payload; 500 twice still succeeds; a
 * private-registry image without its scope is malformed-payload; a pulled image runs by the digest
 * even when its tag is re-pointed between the pull and the container start.
 */
import { spawnSync } from 'node:child_process';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeTaskcluster, type FakeTaskcluster } from '@docker-worker/fake-taskcluster';
import { createDockerClient, type DockerClient } from '@docker-worker/runner';
import { publishArtifact } from '@docker-worker/runner/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { docker, labels, newSession, removeByLabel } from './docker.js';
import { pushImage, startLocalRegistry, type LocalRegistry } from './local-registry.js';
import { runInProcess, sweepStaleSessions, workerLeftovers } from './runner-harness.js';

const BASE = 'debian:bookworm-slim';
const ADMIN = { clientId: 'admin', accessToken: 'admin-token-0123456789' };
const id = newSession();
const workerId = `e2e-images-${id}`;
const workDir = join(tmpdir(), `e2e-images-${id}`);
const built = `dw-test/images-${id}:built`;
let tc: FakeTaskcluster;
let registry: LocalRegistry | undefined;
/** Artifact path → the task that stored it. */
const builder = new Map<string, string>();
/** The bytes stored as each artifact. */
const published = new Map<string, Buffer>();
/** Image ids this file pulled (removed at the end). */
const pulledIds: string[] = [];
/** Every tag this file made (removed by name: an untag never removes the base image). */
const tags: string[] = [built];
const marker = `built by an earlier task ${id}`;

/** A container of BASE writes the marker; committed as `name` (labelled), then saved. */
async function commitImage(name: string, content: string): Promise<void> {
  const c = await docker.createContainer({
    Image: BASE,
    Cmd: ['/bin/sh', '-c', `echo '${content}' > /dw-image-marker`],
    Labels: labels(id),
    HostConfig: { NetworkMode: 'none' },
  });
  try {
    await c.start();
    await c.wait();
    const [repo, tag] = name.split(/:(?=[^:/]+$)/);
    await c.commit({ repo, tag });
  } finally {
    await c.remove({ force: true });
  }
}

const compress = (cmd: string, args: string[], input: Buffer): Buffer => {
  const r = spawnSync(cmd, args, { input, maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr.toString()}`);
  return r.stdout;
};

const run = (
  image: unknown,
  opts: { scopes?: string[]; config?: Record<string, unknown>; docker?: DockerClient } = {},
) =>
  runInProcess({
    task: {
      payload: { image, maxRunTime: 60, command: ['/bin/sh', '-c', 'cat /dw-image-marker'] },
      scopes: opts.scopes ?? [],
    },
    workerId,
    workDir,
    credentials: ADMIN,
    config: { rootUrl: tc.rootUrl, dockerConfig: { maxAttempts: 3, delayFactorMs: 50 }, ...opts.config },
    ...(opts.docker ? { docker: opts.docker } : {}),
  });

const artifactRequests = (path: string) =>
  tc.requests.filter((r) => decodeURIComponent(r.path).includes(`/artifacts/${path}`)).length;

beforeAll(async () => {
  await sweepStaleSessions('e2e-images-', workerId);
  tc = await startFakeTaskcluster({ clients: [{ ...ADMIN, scopes: ['*'] }] });
  await commitImage(built, marker);
  const saved = await docker.getImage(built).get();
  const chunks: Buffer[] = [];
  for await (const c of saved as AsyncIterable<Buffer>) chunks.push(c);
  const tar = Buffer.concat(chunks);
  // The image must come from the artifact: remove it (the base layers stay, as on a worker).
  await docker.getImage(built).remove();
  const files: [string, Buffer][] = [
    ['public/image.tar', tar],
    ['public/image.tar.zst', compress('zstd', ['-1', '-c', '-q'], tar)],
    ['public/image.tar.lz4', compress('lz4', ['-1', '-c', '-q'], tar)],
    ['public/flaky.tar', tar],
  ];
  // Cut short: zstd fails on it half way, after the engine has had part of the tarball.
  const zst = files[1]![1];
  files.push(['public/truncated.tar.zst', zst.subarray(0, zst.length >> 1)]);
  for (const [path, bytes] of files) published.set(path, bytes);
  for (const [path, bytes] of files)
    builder.set(
      path,
      await publishArtifact({
        rootUrl: tc.rootUrl,
        credentials: ADMIN,
        name: path,
        bytes,
        ...(path === 'public/image.tar.zst' ? { namespace: `e2e.images.${id}` } : {}),
      }),
    );
}, 120_000);

afterAll(async () => {
  for (const name of tags)
    await docker
      .getImage(name)
      .remove()
      .catch(() => undefined);
  for (const pulled of pulledIds)
    await docker
      .getImage(pulled)
      .remove({ force: true })
      .catch(() => undefined);
  const left = (await docker.listImages()).flatMap((i) => [...(i.RepoTags ?? []), ...(i.RepoDigests ?? [])]);
  expect(left.filter((t) => t.includes(`images-${id}`) || tags.includes(t))).toEqual([]);
  await removeByLabel(id);
  expect(await workerLeftovers(workerId)).toEqual({ containers: 0, networks: 0 });
  await registry?.stop();
  await tc?.close();
  rmSync(workDir, { recursive: true, force: true });
});

describe('task images', () => {
  for (const path of ['public/image.tar', 'public/image.tar.zst', 'public/image.tar.lz4']) {
    it(`runs a task image stored as ${path}, and reuses it for the next task`, async () => {
      const taskId = builder.get(path)!;
      const r = await run({ type: 'task-image', taskId, path });
      expect(r.reasonResolved, r.log).toBe('completed');
      expect(r.log).toContain(`${marker}\n`);
      expect(r.log).toContain(`Downloading artifact ${path} of task ${taskId}`);
      expect(r.log).toMatch(
        /Downloading and loading artifact .*: \d+(\.\d)? MiB in [\d.]+ s \([\d.]+ [KM]iB\/s\)/,
      );
      const header = /Image: (docker-worker-task-image:[0-9a-f]{64}) \((sha256:[0-9a-f]{64})\)/.exec(r.log);
      expect(header).not.toBeNull();
      const [, name, imageId] = header!;
      tags.push(name!);
      expect((await docker.getImage(name!).inspect()).Id).toBe(imageId);
      const usage = JSON.parse(readFileSync(join(workDir, 'image-usage.json'), 'utf8')) as {
        images: { id: string; source: string }[];
      };
      expect(usage.images).toContainEqual(expect.objectContaining({ id: imageId, source: 'load' }));

      const requests = artifactRequests(path);
      expect(requests).toBeGreaterThan(0);
      const again = await run({ type: 'task-image', taskId, path });
      expect(again.reasonResolved).toBe('completed');
      expect(again.log).toContain(`${marker}\n`);
      expect(again.log).toContain(`Reusing artifact ${path} of task ${taskId}, loaded earlier as ${name}`);
      expect(artifactRequests(path)).toBe(requests); // nothing downloaded
    });
  }

  it("certifies the artifact's sha256 as imageArtifactHash in the chain of trust, loaded or reused", async () => {
    // A task of its own storing the image, so the first run downloads it and the second reuses it.
    const path = 'public/image.tar.lz4';
    const taskId = await publishArtifact({
      rootUrl: tc.rootUrl,
      credentials: ADMIN,
      name: path,
      bytes: published.get(path)!,
    });
    const keyFile = join(workDir, 'cot-key.pem');
    mkdirSync(workDir, { recursive: true });
    writeFileSync(
      keyFile,
      generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }),
    );
    const expected = `sha256:${createHash('sha256').update(published.get(path)!).digest('hex')}`;
    for (let i = 0; i < 2; i++) {
      const r = await runInProcess({
        task: {
          payload: {
            image: { type: 'task-image', taskId, path },
            maxRunTime: 60,
            command: ['/bin/sh', '-c', 'cat /dw-image-marker'],
            features: { chainOfTrust: true },
          },
        },
        workerId,
        workDir,
        credentials: ADMIN,
        config: { rootUrl: tc.rootUrl, keys: { ed25519SigningKey: keyFile } },
      });
      expect(r.reasonResolved, r.log).toBe('completed');
      expect(r.log).toContain(
        i === 0
          ? `Downloading artifact ${path} of task ${taskId}`
          : `Reusing artifact ${path} of task ${taskId}`,
      );
      const name = /Image: (docker-worker-task-image:[0-9a-f]{64})/.exec(r.log)?.[1];
      if (name && !tags.includes(name)) tags.push(name);
      const cot = JSON.parse(
        readFileSync(join(workDir, 'artifacts', 'public', 'chain-of-trust.json'), 'utf8'),
      ) as { environment: Record<string, string> };
      expect(cot.environment.imageArtifactHash).toBe(expected);
      expect(cot.environment.imageHash).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(cot.environment.imageHash).not.toBe(expected);
    }
  });

  it('finds an indexed image through the index findTask', async () => {
    const path = 'public/image.tar.zst';
    const namespace = `e2e.images.${id}`;
    const r = await run(
      { type: 'indexed-image', namespace, path },
      { scopes: [`index:find-task:${namespace}`] },
    );
    expect(r.reasonResolved, r.log).toBe('completed');
    expect(r.log).toContain(`Index namespace ${namespace} names task ${builder.get(path)}`);
    expect(r.log).toContain(`${marker}\n`);
  });

  it('a missing image artifact is malformed-payload', async () => {
    const taskId = builder.get('public/image.tar')!;
    const r = await run({ type: 'task-image', taskId, path: 'public/nothing.tar' });
    expect(r.reasonResolved).toBe('malformed-payload');
    expect(r.log).toContain(
      `artifact public/nothing.tar of task ${taskId} cannot be used (404 Artifact not found)`,
    );
  });

  it('a truncated .tar.zst is malformed-payload quoting zstd, and the load does not wait for the rest', async () => {
    const path = 'public/truncated.tar.zst';
    const r = await run({ type: 'task-image', taskId: builder.get(path)!, path });
    expect(r.reasonResolved, r.log).toBe('malformed-payload');
    expect(r.log).toMatch(
      /is not a docker save tarball the engine can load \(the zstd stream is corrupt or ends early \(\S*zstd: .+\)\)/,
    );
  });

  it('a flaky artifact server (500 twice) still succeeds', async () => {
    const path = 'public/flaky.tar';
    const taskId = builder.get(path)!;
    const before = tc.faults.injected;
    tc.faults.fail({ count: 2, match: /\/artifacts\/public(%2F|\/)flaky\.tar/ });
    const r = await run({ type: 'task-image', taskId, path });
    expect(r.reasonResolved, r.log).toBe('completed');
    expect(tc.faults.injected - before).toBe(2);
    expect(r.log).toMatch(/failed \(attempt 1\): 500 .*; retrying in/);
    expect(r.log).toMatch(/failed \(attempt 2\): 500 .*; retrying in/);
    expect(r.log).toContain(`${marker}\n`);
    tags.push(/Image: (docker-worker-task-image:[0-9a-f]{64})/.exec(r.log)![1]!);
  });
});

describe('registry images', () => {
  let name = '';
  let repo = '';
  let digest = '';
  beforeAll(async () => {
    registry = await startLocalRegistry();
    repo = `${registry.host}/dw-test/images-${id}`;
    name = `${repo}:1`;
    tags.push(name);
    await commitImage(name, `pulled ${id}`);
    digest = await pushImage(name);
    await docker.getImage(name).remove();
  }, 60_000);

  const config = () => ({
    registries: { [registry!.host]: { username: 'dw', password: 'registry-pw-secret' } },
  });

  it('a private-registry image without its scope is malformed-payload', async () => {
    const r = await run(name, { config: config() });
    expect(r.reasonResolved).toBe('malformed-payload');
    expect(r.log).toContain(`Try adding docker-worker:image:${name} to the .scopes array of the task`);
    expect(r.log).not.toContain('Pulling docker image');
    expect(r.log).not.toContain('registry-pw-secret');
  });

  it('runs the digest the pull resolved even when the tag is re-pointed between the pull and the start', async () => {
    const real = createDockerClient();
    const [tagRepo, tag] = [repo, '1'];
    const repointing: DockerClient = {
      ...real,
      imageEngine: {
        ...real.imageEngine,
        pull: async (n, o) => {
          const pulled = await real.imageEngine.pull(n, o);
          await docker.getImage(BASE).tag({ repo: tagRepo, tag }); // someone re-points the tag
          return pulled;
        },
      },
    };
    const r = await run(name, {
      config: config(),
      scopes: [`docker-worker:image:${name}`],
      docker: repointing,
    });
    expect(r.reasonResolved, r.log).toBe('completed');
    expect(r.log).toContain(`Image: ${name} (${repo}@${digest})`);
    expect(r.log).toContain(`pulled ${id}\n`); // the pulled image's file, not the base image's (it has none)
    expect((await docker.getImage(name).inspect()).Id).toBe((await docker.getImage(BASE).inspect()).Id);
    const pulled = (await docker.getImage(`${repo}@${digest}`).inspect()).Id;
    pulledIds.push(pulled);
    expect(pulled).not.toBe((await docker.getImage(BASE).inspect()).Id);
    expect(r.log).not.toContain('registry-pw-secret');
  });
});

describe('a private registry (htpasswd)', () => {
  let privateRegistry: LocalRegistry | undefined;
  let name = '';
  const password = `pw-${id}-secret`;
  beforeAll(async () => {
    const hash = spawnSync(
      'python3',
      [
        '-c',
        'import crypt,sys; print(crypt.crypt(sys.argv[1], crypt.mksalt(crypt.METHOD_BLOWFISH)))',
        password,
      ],
      { encoding: 'utf8' },
    ).stdout.trim();
    privateRegistry = await startLocalRegistry({ htpasswd: `dw:${hash}\n` });
    name = `${privateRegistry.host}/dw-test/private-${id}:1`;
    tags.push(name);
    await commitImage(name, `private ${id}`);
    pushedPrivate = await pushImage(name, { username: 'dw', password, serveraddress: privateRegistry.host });
    await docker.getImage(name).remove();
  }, 60_000);
  let pushedPrivate = '';
  afterAll(async () => {
    await docker
      .getImage(`${name.split(':1')[0]}@${pushedPrivate}`)
      .remove({ force: true })
      .catch(() => undefined);
    await privateRegistry?.stop();
  });
  const creds = () => ({ registries: { [privateRegistry!.host]: { username: 'dw', password } } });

  it('pulls with the registry credentials of the worker config when the task has the scope', async () => {
    const r = await run(name, { config: creds(), scopes: [`docker-worker:image:${name}`] });
    expect(r.reasonResolved, r.log).toBe('completed');
    expect(r.log).toContain(`private ${id}\n`);
    expect(r.log).not.toContain(password);
    await docker.getImage(name).remove();
  });

  it('without credentials the registry refuses the pull: failed, not retried', async () => {
    const r = await run(name, { config: { dockerConfig: { maxAttempts: 2, delayFactorMs: 10 } } });
    console.log(
      r.reasonResolved,
      r.log
        .split('\n')
        .filter((l) => l.includes('Pulling'))
        .join('\n'),
    );
    expect(r.reasonResolved).not.toBe('completed');
  });
});
