import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { buildConfig } from '../config.js';
import { UsageError } from '../errors.js';
import { GcEngine, recordingLog, sha } from '../gc/testing.js';
import { ImageUsage } from '../images/image-usage.js';
import { FakeClock } from '../testing/fake-clock.js';
import { gcCommand, gcLines } from './gc.js';

const MiB = 2 ** 20;
const HOUR = 3_600_000;
const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function setup() {
  const workDir = await mkdtemp(join(tmpdir(), 'gc-command-'));
  dirs.push(workDir);
  const clock = new FakeClock();
  const engine = new GcEngine();
  const usage = await ImageUsage.open(workDir);
  const old = engine.add(sha(0xabc), 150 * MiB, 'task/old:1');
  const used = engine.add(sha(0xdef), 20 * MiB, 'task/used:1');
  engine.used.add(used);
  for (const [id, ref] of [
    [old, 'task/old:1'],
    [used, 'task/used:1'],
  ] as const)
    await usage.touch({ id, ref, source: 'pull', lastUsed: clock.now() - 3 * HOUR });
  const out: string[] = [];
  const run = (dryRun: boolean, ping = async () => undefined) =>
    gcCommand(
      {
        config: buildConfig({ workDir, capacityManagement: { diskspaceThreshold: 0 } }),
        dryRun,
        docker: { ping, dataRoot: async () => '/var/lib/docker', imageEngine: engine },
        clock,
        log: recordingLog().log,
        freeBytes: engine.freeBytes,
      },
      (line) => out.push(line),
    );
  return { workDir, engine, old, used, out, run };
}

describe('docker-worker gc', () => {
  it('--dry-run prints what it would remove and keep, and the total, removing nothing', async () => {
    const { engine, out, run } = await setup();
    expect(await run(true)).toBe(0);
    expect(out.join('')).toBe(
      [
        'would remove task/old:1 000000000000 150.0 MiB (expired)',
        'kept task/used:1 000000000000: a container uses it',
        'would free 150.0 MiB',
        '',
      ].join('\n'),
    );
    expect(engine.removals).toEqual([]);
  });

  it('removes the expired unused image, forgets it in image-usage.json and keeps the used one', async () => {
    const { workDir, engine, old, used, out, run } = await setup();
    expect(await run(false)).toBe(0);
    expect(out[0]).toBe('removed task/old:1 000000000000 150.0 MiB (expired)\n');
    expect(out.at(-1)).toBe('freed 150.0 MiB\n');
    expect(engine.removals).toEqual([old]);
    const record = JSON.parse(await readFile(join(workDir, 'image-usage.json'), 'utf8')) as {
      images: { id: string }[];
    };
    expect(record.images.map((i) => i.id)).toEqual([used]);
  });

  it('an engine that does not answer is a usage error saying how to mend it', async () => {
    const { run } = await setup();
    const down = () => Promise.reject(new Error('connect ENOENT /var/run/docker.sock'));
    await expect(run(false, down)).rejects.toThrow(UsageError);
    await expect(run(false, down)).rejects.toThrow(/cannot reach the Docker engine .*set DOCKER_HOST/);
  });
});

describe('gcLines', () => {
  it('says where the record is when there is nothing to remove, and what pruning freed', () => {
    const base = { dryRun: false, removed: [], bytes: 0, skipped: [] };
    expect(gcLines({ ...base, pruned: { removed: 0, bytes: 0 } }, '/w/image-usage.json')).toEqual([
      'nothing to remove (the images this worker pulled or loaded are listed in /w/image-usage.json)',
      'freed 0.0 MiB',
    ]);
    expect(gcLines({ ...base, pruned: { removed: 2, bytes: 3 * MiB } }, 'f').at(-1)).toBe(
      'freed 0.0 MiB, and 3.0 MiB of 2 dangling images pruned',
    );
  });
});
