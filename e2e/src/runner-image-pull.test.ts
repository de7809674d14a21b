// The runner's image feature against a real registry on loopback (Debian's docker-registry): a
// missing image is pulled with its progress in the live log and run, in both the string and the
// {type: 'docker-image'} form, with the registry's digest in the header; a tag the registry does
// not have resolves failed with the image name and the engine's reason.
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { docker, labels, newSession, removeByLabel, TEST_LABEL, TEST_PID_LABEL } from './docker.js';
import { pushImage, startLocalRegistry, type LocalRegistry } from './local-registry.js';
import { RunnerSession, sweepStaleSessions } from './runner-harness.js';

const BASE = 'debian:bookworm-slim';
const id = newSession();
const session = new RunnerSession(`e2e-pull-${id}`);
let registry: LocalRegistry | undefined;
/** Images this session committed (and the runner pulls back under the same names). */
const images: string[] = [];
/** Image name → the manifest digest the registry gave it on push. */
const pushed = new Map<string, string>();
const repo = (form: string) => `${registry!.host}/dw-test/pull-${id}-${form}`;

/**
 * Commits a one-file layer (unique to this session) over the base image as `<repo>:1`, so the
 * runner has a layer to download: the base layer is on the engine already.
 */
async function commitUniqueImage(repository: string, content: string): Promise<string> {
  const container = await docker.createContainer({
    Image: BASE,
    Cmd: ['/bin/sh', '-c', `echo '${content}' > /dw-pull-test.txt`],
    Labels: labels(id),
    HostConfig: { NetworkMode: 'none' },
  });
  try {
    await container.start();
    await container.wait();
    // The session labels go into the image config, so the pulled image carries them too.
    const changes = `LABEL ${Object.entries(labels(id))
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')}`;
    images.push(`${repository}:1`);
    await container.commit({ repo: repository, tag: '1', changes });
  } finally {
    await container.remove({ force: true });
  }
  return `${repository}:1`;
}

const imageExists = (name: string) =>
  docker
    .getImage(name)
    .inspect()
    .then(
      () => true,
      () => false,
    );

/** Removes the test images of earlier runs of this file whose test process is gone. */
async function sweepStaleImages(): Promise<void> {
  for (const img of await docker.listImages({ filters: JSON.stringify({ label: [TEST_LABEL] }) })) {
    const pid = Number(img.Labels?.[TEST_PID_LABEL]);
    const isOurs = (img.RepoTags ?? []).some((t) => t.includes('/dw-test/pull-'));
    if (!isOurs || !Number.isInteger(pid) || pid <= 0) continue;
    try {
      process.kill(pid, 0);
    } catch {
      for (const tag of img.RepoTags ?? [])
        await docker
          .getImage(tag)
          .remove({ force: true })
          .catch(() => undefined);
    }
  }
}

beforeAll(async () => {
  await sweepStaleSessions('e2e-pull-', session.workerId);
  await sweepStaleImages();
  registry = await startLocalRegistry();
  for (const form of ['string', 'object']) {
    const name = await commitUniqueImage(repo(form), `pulled ${form} ${id}`);
    pushed.set(name, await pushImage(name));
    // Remove the only tag: the image and its unique layer go, so the runner must pull them.
    await docker.getImage(name).remove();
    expect(await imageExists(name)).toBe(false);
  }
});

afterAll(async () => {
  try {
    await session.removeAll();
    for (const name of images)
      await docker
        .getImage(name)
        .remove({ force: true })
        .catch(() => undefined);
    await removeByLabel(id);
    expect(await session.leftovers()).toEqual({ containers: 0, networks: 0 });
    for (const name of images) expect(await imageExists(name)).toBe(false);
  } finally {
    await registry?.stop();
    rmSync(session.dir, { recursive: true, force: true });
  }
});

const command = ['/bin/sh', '-c', 'cat /dw-pull-test.txt'];
const logLine = (text: string) => new RegExp(`^\\[taskcluster [^\\]]+\\] ${text}$`, 'm');
const quote = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('image pull from a registry on loopback', () => {
  for (const form of ['string', 'object'] as const) {
    it(`pulls a missing image given in the ${form} form, with progress lines and the registry digest in the header, and runs it`, async () => {
      const name = `${repo(form)}:1`;
      const digest = pushed.get(name);
      expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
      const image = form === 'string' ? name : { type: 'docker-image', name };
      const r = await session.run({ payload: { image, maxRunTime: 60, command } });
      expect(r.code).toBe(0);
      expect(r.stderr).toContain(`run 0 completed, exit code 0`);
      expect(r.result).toMatchObject({ state: 'completed', reasonResolved: 'completed', exitCode: 0 });
      // The pulled layer is the one this session committed: its file is what the task prints.
      expect(r.stdout).toContain(`pulled ${form} ${id}\n`);
      // Progress as the engine reports it, one line per layer status change, indented under the pull line.
      expect(r.stdout).toMatch(logLine(`Pulling docker image ${quote(name)}`));
      expect(r.stdout).toMatch(logLine(`  [0-9a-f]{12}: Already exists`)); // the base layer
      expect(r.stdout).toMatch(logLine(`  [0-9a-f]{12}: Pulling fs layer`)); // the session's layer
      expect(r.stdout).toMatch(logLine(`  [0-9a-f]{12}: Pull complete`));
      expect(r.stdout).toMatch(logLine(`  Digest: ${digest}`));
      expect(r.stdout).toMatch(logLine(`  Status: Downloaded newer image for ${quote(name)}`));
      // The header names the image with the digest the registry gave on push.
      expect(r.stdout).toMatch(logLine(`Image: ${quote(name)} \\(${quote(repo(form))}@${digest}\\)`));
      const order = ['Pulling docker image', 'Pull complete', `Image: ${name}`, `pulled ${form} ${id}`].map(
        (s) => r.stdout.indexOf(s),
      );
      expect(order).toEqual([...order].sort((a, b) => a - b));
      expect(await imageExists(name)).toBe(true);
      expect(await session.leftovers()).toEqual({ containers: 0, networks: 0 });
    });
  }

  it('resolves failed with the image name and the engine reason when the registry has no such tag', async () => {
    const name = `${repo('string')}:no-such-tag`;
    const r = await session.run({ payload: { image: name, maxRunTime: 60, command } });
    expect(r.code).toBe(1);
    expect(r.result).toMatchObject({ state: 'failed', reasonResolved: 'failed' });
    expect(r.stdout).toMatch(logLine(`Pulling docker image ${quote(name)}`));
    expect(r.stdout).toMatch(
      new RegExp(
        `^\\[taskcluster:error\\] Pulling docker image ${quote(name)} has failed: .*manifest unknown`,
        'm',
      ),
    );
    expect(r.stdout).toMatch(logLine('Resolution: failed'));
    expect(r.stdout).not.toContain('Image: ');
    expect(await imageExists(name)).toBe(false);
    expect(await session.leftovers()).toEqual({ containers: 0, networks: 0 });
  });
});
