import { describe, expect, it } from 'vitest';
import { buildConfig, type WorkerConfigInput } from '../config.js';
import { ImageUsage } from '../images/image-usage.js';
import { FakeClock } from '../testing/fake-clock.js';
import { collectImages, normalizeRef } from './image-gc.js';
import { GcEngine, recordingLog, sha } from './testing.js';

const HOUR = 3_600_000;
const MiB = 2 ** 20;

async function setup(config: WorkerConfigInput = {}) {
  const clock = new FakeClock();
  const engine = new GcEngine();
  const usage = ImageUsage.memory();
  const { log, lines } = recordingLog();
  const cfg = buildConfig({ capacityManagement: { diskspaceThreshold: 0 }, ...config });
  /** An image on the engine, recorded as pulled and last used `ageMs` ago. */
  const image = async (n: number, size: number, ageMs: number, tag = `task/image-${n}:latest`) => {
    const id = engine.add(sha(n), size, tag);
    await usage.touch({ id, ref: tag, source: 'pull', lastUsed: clock.now() - ageMs });
    return id;
  };
  const collect = (dryRun = false) =>
    collectImages({ engine, usage, clock, config: cfg, freeBytes: engine.freeBytes, dryRun, log });
  return { clock, engine, usage, lines, log, cfg, image, collect };
}

describe('image GC: expiry', () => {
  it('removes the recorded images unused for imageExpirationSeconds, keeps the fresh ones, then prunes', async () => {
    const { engine, usage, image, collect } = await setup();
    const old = await image(1, 100 * MiB, 3 * HOUR);
    const edge = await image(2, 10 * MiB, 2 * HOUR); // exactly the default 7200 s
    const fresh = await image(3, 50 * MiB, HOUR);
    const result = await collect();
    expect(result.removed).toEqual([
      { id: old, ref: 'task/image-1:latest', size: 100 * MiB, reason: 'expired' },
      { id: edge, ref: 'task/image-2:latest', size: 10 * MiB, reason: 'expired' },
    ]);
    expect(result.bytes).toBe(110 * MiB);
    expect(engine.removals).toEqual([old, edge]);
    expect([...engine.loaded.keys()]).toEqual([fresh]);
    expect(usage.list().map((u) => u.id)).toEqual([fresh]);
    expect(engine.prunes).toBe(1);
  });

  it('follows garbageCollection.imageExpirationSeconds; 0 removes nothing while disk space suffices', async () => {
    const short = await setup({ garbageCollection: { imageExpirationSeconds: 60 } });
    const a = await short.image(1, 1, 61_000);
    await short.image(2, 1, 59_000);
    expect((await short.collect()).removed.map((r) => r.id)).toEqual([a]);

    const never = await setup({ garbageCollection: { imageExpirationSeconds: 0 } });
    await never.image(1, 1, 1000 * HOUR);
    const result = await never.collect();
    expect(result.removed).toEqual([]);
    expect(never.engine.removals).toEqual([]);
    expect(never.engine.prunes).toBe(0);
  });

  it('never removes an image a container uses (running or stopped), however old', async () => {
    const { engine, usage, image, collect } = await setup();
    const used = await image(1, 1, 10 * HOUR);
    const unused = await image(2, 1, 10 * HOUR);
    engine.used.add(used);
    const result = await collect();
    expect(engine.removals).toEqual([unused]);
    expect(result.skipped).toEqual([{ id: used, ref: 'task/image-1:latest', why: 'in-use' }]);
    expect(usage.get(used)).toBeDefined();
  });

  it("never removes the config's sidecar images, named with or without their tag or registry", async () => {
    const { engine, image, collect } = await setup({
      images: { taskclusterProxy: 'docker-worker/taskcluster-proxy' },
      balrog: { image: 'docker.io/library/balrog:v2' },
    });
    const proxy = await image(1, 1, 10 * HOUR, 'docker-worker/taskcluster-proxy:latest');
    const balrog = await image(2, 1, 10 * HOUR, 'balrog:v2');
    const testdroid = await image(3, 1, 10 * HOUR, 'docker-worker/testdroid-proxy:latest');
    const other = await image(4, 1, 10 * HOUR);
    const result = await collect();
    expect(engine.removals).toEqual([other]);
    expect(result.skipped.map((s) => [s.id, s.why])).toEqual([
      [proxy, 'sidecar'],
      [balrog, 'sidecar'],
      [testdroid, 'sidecar'],
    ]);
  });

  it('never touches an image it did not record (the operator made or pulled it)', async () => {
    const { engine, collect } = await setup({ capacityManagement: { diskspaceThreshold: 10 * MiB } });
    engine.add(sha(9), 500 * MiB, 'operator/own:latest');
    const result = await collect();
    expect(result.removed).toEqual([]);
    expect(engine.removals).toEqual([]);
    expect(engine.loaded.has(sha(9))).toBe(true);
  });
});

describe('image GC: disk pressure', () => {
  it('below diskspaceThreshold removes the least recently used first until the free space is enough', async () => {
    const { engine, image, collect } = await setup({
      capacityManagement: { diskspaceThreshold: 1000 * MiB },
    });
    engine.baseFree = 700 * MiB;
    const newest = await image(1, 400 * MiB, 1 * 60_000);
    const oldest = await image(2, 200 * MiB, 30 * 60_000);
    const middle = await image(3, 150 * MiB, 20 * 60_000);
    const result = await collect();
    // 700 + 200 = 900 < 1000, + 150 = 1050: the newest stays.
    expect(result.removed.map((r) => [r.id, r.reason])).toEqual([
      [oldest, 'disk-pressure'],
      [middle, 'disk-pressure'],
    ]);
    expect(engine.loaded.has(newest)).toBe(true);
    expect(result.freeBefore).toBe(700 * MiB);
    expect(engine.prunes).toBe(1);
  });

  it('takes the expired ones first, then the rest by last use; in-use images are passed over', async () => {
    const { engine, image, collect } = await setup({
      capacityManagement: { diskspaceThreshold: 1000 * MiB },
    });
    engine.baseFree = 0;
    const expired = await image(1, 100 * MiB, 5 * HOUR);
    const used = await image(2, 900 * MiB, 60 * 60_000);
    const recent = await image(3, 300 * MiB, 10 * 60_000);
    const newest = await image(4, 800 * MiB, 1 * 60_000);
    engine.used.add(used);
    const result = await collect();
    expect(result.removed.map((r) => [r.id, r.reason])).toEqual([
      [expired, 'expired'],
      [recent, 'disk-pressure'],
      [newest, 'disk-pressure'],
    ]);
    expect(result.skipped.map((s) => [s.id, s.why])).toEqual([[used, 'in-use']]);
  });

  it('with the free space unknown, removes only what expired', async () => {
    const { engine, image, clock, usage, lines, log, cfg } = await setup({
      capacityManagement: { diskspaceThreshold: 1000 * MiB },
    });
    const expired = await image(1, 1, 5 * HOUR);
    await image(2, 1, 1);
    const freeBytes = () => Promise.reject(new Error('statfs EACCES'));
    const result = await collectImages({ engine, usage, clock, config: cfg, freeBytes, log });
    expect(result.removed.map((r) => r.id)).toEqual([expired]);
    expect(result.freeBefore).toBeUndefined();
    expect(lines.filter((l) => l.level >= 40)).toEqual([]);
  });
});

describe('image GC: dry run, and the engine disagreeing', () => {
  it('a dry run plans the same removals (space estimated from the sizes) and changes nothing', async () => {
    const { engine, usage, image, collect } = await setup({
      capacityManagement: { diskspaceThreshold: 1000 * MiB },
    });
    engine.baseFree = 700 * MiB;
    const expired = await image(1, 50 * MiB, 5 * HOUR);
    const lru = await image(2, 200 * MiB, 30 * 60_000);
    const recent = await image(3, 100 * MiB, 20 * 60_000);
    await image(4, 100 * MiB, 10 * 60_000);
    const before = usage.list();
    const plan = await collect(true);
    expect(plan.dryRun).toBe(true);
    expect(plan.removed.map((r) => [r.id, r.reason])).toEqual([
      [expired, 'expired'],
      [lru, 'disk-pressure'],
      [recent, 'disk-pressure'],
    ]);
    expect(plan.bytes).toBe(350 * MiB);
    expect(engine.removals).toEqual([]);
    expect(engine.prunes).toBe(0);
    expect(usage.list()).toEqual(before);
    const done = await collect();
    expect(done.removed).toEqual(plan.removed);
  });

  it('forgets quietly an image someone else removed', async () => {
    const { engine, usage, image, lines, collect } = await setup();
    const gone = await image(1, 1, 5 * HOUR);
    await engine.remove(gone);
    engine.removals.length = 0;
    const result = await collect();
    expect(result.removed).toEqual([]);
    expect(engine.removals).toEqual([]);
    expect(usage.get(gone)).toBeUndefined();
    expect(lines.filter((l) => l.level >= 40)).toEqual([]);
  });

  it('skips and logs an image the engine refuses (409), goes on with the others and keeps its record', async () => {
    const { engine, usage, image, lines, collect } = await setup();
    const refused = await image(1, 1, 6 * HOUR);
    const next = await image(2, 1, 5 * HOUR);
    engine.refuse.set(refused, 409);
    const result = await collect();
    expect(result.skipped).toEqual([{ id: refused, ref: 'task/image-1:latest', why: 'conflict' }]);
    expect(result.removed.map((r) => r.id)).toEqual([next]);
    expect(usage.get(refused)).toBeDefined();
    const warn = lines.filter((l) => l.level === 40);
    expect(warn).toHaveLength(1);
    expect(warn[0]).toMatchObject({ image: refused, msg: 'image gc: cannot remove the image (conflict)' });
  });

  it('prunes nothing when nothing was removed and the disk is fine', async () => {
    const { engine, image, collect } = await setup();
    await image(1, 1, 1);
    expect((await collect()).removed).toEqual([]);
    expect(engine.prunes).toBe(0);
  });
});

describe('normalizeRef', () => {
  it('names images as the engine lists their tags', () => {
    expect(normalizeRef('debian')).toBe('debian:latest');
    expect(normalizeRef('docker.io/library/debian:12')).toBe('debian:12');
    expect(normalizeRef('docker.io/me/tool')).toBe('me/tool:latest');
    expect(normalizeRef('localhost:5000/me/tool')).toBe('localhost:5000/me/tool:latest');
    expect(normalizeRef('localhost:5000/me/tool:1')).toBe('localhost:5000/me/tool:1');
    expect(normalizeRef(`me/tool@${sha(1)}`)).toBe(`me/tool@${sha(1)}`);
  });
});
