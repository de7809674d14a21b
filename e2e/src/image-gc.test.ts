/**
 * `docker-worker gc` against the engine: two throwaway images recorded as pulled by this worker
 * three hours ago, one of them used by a (created, never started) container. `--dry-run` names
 * both and removes nothing; `gc` removes the unused one and keeps the used one and every image
 * the worker did not record.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildImage, docker, labels, newSession, removeByLabel, TEST_LABEL } from './docker.js';
import { QueueSession } from './queue-harness.js';
import { CLI } from './runner-harness.js';

const session = newSession();
const dir = mkdtempSync(join(tmpdir(), 'image-gc-e2e-'));
const workDir = join(dir, 'work');
const configFile = join(dir, 'worker.json');
const expiredTag = `docker-worker-gc-test/expired:${session}`;
const usedTag = `docker-worker-gc-test/used:${session}`;
const queueTag = `docker-worker-gc-test/queue:${session}`;
const ids: Record<string, string> = {};

function gc(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [CLI, 'gc', '--config', configFile, ...args],
      (_err, stdout, stderr) => resolve({ code: child.exitCode, stdout, stderr }),
    );
  });
}

const exists = (tag: string): Promise<boolean> =>
  docker
    .getImage(tag)
    .inspect()
    .then(
      () => true,
      (err: { statusCode?: number }) => {
        if (err.statusCode === 404) return false;
        throw err;
      },
    );

beforeAll(async () => {
  for (const [name, tag] of [
    ['expired', expiredTag],
    ['used', usedTag],
    ['queue', queueTag],
  ] as const) {
    // A LABEL only: a new image id over debian's layers, built in no time.
    const lines = Object.entries({ ...labels(session), 'org.docker-worker.gc-test': name }).map(
      ([k, v]) => `LABEL ${k}="${v}"`,
    );
    buildImage({ tag, stdin: ['FROM debian:bookworm-slim', ...lines].join('\n') });
    ids[name] = (await docker.getImage(tag).inspect()).Id;
  }
  await docker.createContainer({ Image: usedTag, Cmd: ['true'], Labels: labels(session) });
  const lastUsed = Date.now() - 3 * 3_600_000;
  writeFileSync(configFile, JSON.stringify({ workDir, capacityManagement: { diskspaceThreshold: 0 } }));
  const images = [
    { id: ids.expired, ref: expiredTag, source: 'pull', lastUsed },
    { id: ids.used, ref: usedTag, source: 'pull', lastUsed },
  ];
  mkdirSync(workDir, { recursive: true });
  writeFileSync(join(workDir, 'image-usage.json'), JSON.stringify({ images }));
});

afterAll(async () => {
  await removeByLabel(session);
  const filters = JSON.stringify({ label: [`${TEST_LABEL}=${session}`] });
  for (const image of await docker.listImages({ filters }))
    await docker
      .getImage(image.Id)
      .remove({ force: true })
      .catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

const short = (id = ''): string => id.replace(/^sha256:/, '').slice(0, 12);

describe('docker-worker gc', () => {
  it('--dry-run names the expired image and the used one it keeps, and removes nothing', async () => {
    const r = await gc('--dry-run');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(
      new RegExp(`^would remove ${expiredTag} ${short(ids.expired)} \\d+\\.\\d MiB \\(expired\\)$`),
    );
    expect(lines[1]).toBe(`kept ${usedTag} ${short(ids.used)}: a container uses it`);
    expect(lines[2]).toMatch(/^would free \d+\.\d MiB$/);
    expect(await exists(expiredTag)).toBe(true);
    expect(await exists(usedTag)).toBe(true);
  });

  it('removes the expired unused image, keeps the used one and the images it did not record', async () => {
    const r = await gc();
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      new RegExp(`^removed ${expiredTag} ${short(ids.expired)} .* \\(expired\\)$`, 'm'),
    );
    expect(r.stdout).toMatch(/^freed \d+\.\d MiB/m);
    expect(await exists(expiredTag)).toBe(false);
    expect(await exists(usedTag)).toBe(true);
    expect(await exists('debian:bookworm-slim')).toBe(true);
    const record = JSON.parse(readFileSync(join(workDir, 'image-usage.json'), 'utf8')) as {
      images: { id: string }[];
    };
    expect(record.images.map((i) => i.id)).toEqual([ids.used]);
  });

  it('a config error is one line and exit 64', async () => {
    writeFileSync(
      join(dir, 'bad.json'),
      JSON.stringify({ garbageCollection: { imageExpirationSeconds: -1 } }),
    );
    const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = execFile(
        process.execPath,
        [CLI, 'gc', '--config', join(dir, 'bad.json')],
        (_err, _stdout, stderr) => resolve({ code: child.exitCode, stderr }),
      );
    });
    expect(r.code).toBe(64);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/imageExpirationSeconds/);
  });
});

describe('queue mode: the image GC runs between tasks, never during one', () => {
  let q: QueueSession | undefined;
  afterAll(async () => {
    await q?.close();
  });

  it('an expired image freed while a task runs is removed only after that task resolved', async () => {
    q = await QueueSession.start(`e2e-gc-${session}`);
    const work = join(q.dir, 'work');
    mkdirSync(work, { recursive: true });
    const lastUsed = Date.now() - 3 * 3_600_000;
    writeFileSync(
      join(work, 'image-usage.json'),
      JSON.stringify({ images: [{ id: ids.queue, ref: queueTag, source: 'pull', lastUsed }] }),
    );
    // Protected at the worker's start (a container uses it): the first GC keeps it.
    const holder = await docker.createContainer({ Image: queueTag, Cmd: ['true'], Labels: labels(session) });
    const taskId = await q.createTask({
      command: ['/bin/sh', '-c', 'while [ ! -f /tmp/go ]; do sleep 0.1; done'],
    });
    // Collecting whenever the claim loop is idle (the default waits 60 s between collections).
    const worker = await q.startWorker({ capacity: 2, garbageCollection: { intervalSeconds: 0 } });
    const container = await q.taskContainer(taskId);
    await holder.remove({ force: true });
    // The free slot keeps polling while the task runs: two more rounds of the claim loop.
    const claims = (): number => q?.tc.requests.filter((r) => r.path.includes('claim-work')).length ?? 0;
    const seen = claims();
    while (claims() < seen + 2) await new Promise((r) => setTimeout(r, 50));
    expect(await exists(queueTag)).toBe(true);
    const exec = await docker.getContainer(container).exec({ Cmd: ['touch', '/tmp/go'] });
    await exec.start({ Detach: true });
    expect(await q.resolved(taskId)).toBe('completed');
    while (!worker.stderr().includes('image gc: removed')) await new Promise((r) => setTimeout(r, 50));
    expect(await exists(queueTag)).toBe(false);
    const msgs = worker
      .stderr()
      .split('\n')
      .filter(Boolean)
      .map((l) => (JSON.parse(l) as { msg: string }).msg);
    expect(msgs.indexOf('task resolved')).toBeGreaterThanOrEqual(0);
    expect(msgs.indexOf('image gc: removed')).toBeGreaterThan(msgs.indexOf('task resolved'));
  });
});
