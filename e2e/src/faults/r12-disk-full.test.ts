/**
 * R12: the disk under `capacityManagement.diskspaceThreshold`. The worker's engine is a second
 * dockerd of the test's own whose data root is a tmpfs (second-engine.ts); the worker measures it
 * as always (`docker info` → DockerRootDir, statfs). While a task runs, the test fills the tmpfs
 * with a file until less than the threshold is free: the worker says so and claims nothing (a task
 * created then stays pending; the queue sees no claimWork), the running task completes unharmed;
 * the file removed, claims resume and the pending task completes.
 * Measured: claimWork calls while short of space, time from the space's return to the claim.
 */
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { statfs } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { newSession } from '../docker.js';
import { QueueSession } from '../queue-harness.js';
import { runLog } from './queue-util.js';
import { record, since, until } from './recorder.js';
import { SecondEngine, withDockerHost } from './second-engine.js';

const MiB = 1024 * 1024;
const THRESHOLD = 256 * MiB;
let engine: SecondEngine | undefined;
let q: QueueSession | undefined;
afterAll(async () => {
  await q?.close();
  await engine?.close();
});

const freeOf = async (path: string): Promise<number> => {
  const s = await statfs(path);
  return s.bavail * s.bsize;
};
const claimWorks = (s: QueueSession, from: number): number =>
  s.tc.requests.slice(from).filter((r) => r.path.includes('/claim-work/')).length;

describe('R12: the disk under the threshold', () => {
  it('no claim while short of space, the running task completes, claims resume when space returns', async () => {
    engine = await SecondEngine.start({ sizeMiB: 640, images: ['debian:bookworm-slim'] });
    const e = engine;
    q = await QueueSession.start(`e2e-fault-r12-${newSession()}`);
    const s = q;
    const running = await s.createTask({
      command: ['/bin/sh', '-c', 'echo started; while [ ! -e /tmp/go ]; do sleep 0.1; done; echo unharmed'],
    });
    const worker = await withDockerHost(e.host, () =>
      s.startWorker({
        capacity: 2,
        taskContainer: { blockHostAccess: false },
        capacityManagement: { diskspaceThreshold: THRESHOLD },
      }),
    );
    const container = await until(async () =>
      (await e.docker.listContainers()).find((c) => c.Labels['org.docker-worker.task-id'] === running),
    );

    // Fill the engine's data root until 128 MiB are free: below the threshold.
    const fill = join(e.dataRoot, 'dw-fill');
    const toFill = (await freeOf(e.dataRoot)) - 128 * MiB;
    execFileSync('fallocate', ['-l', String(toFill), fill]);
    expect(await freeOf(e.dataRoot)).toBeLessThan(THRESHOLD);
    await until(() => worker.stderr().includes('not claiming: free space on the engine data root'));
    const from = s.tc.requests.length;
    const pending = await s.createTask({ command: ['/bin/sh', '-c', 'echo after'] });

    // The running task goes on and completes while the worker claims nothing.
    execFileSync('docker', ['-H', e.host, 'exec', container.Id, 'touch', '/tmp/go']);
    expect(await s.resolved(running)).toBe('completed');
    expect(await runLog(s, running)).toMatch(/started\n[^]*unharmed\n/);
    const whileShort = claimWorks(s, from);
    expect(whileShort).toBe(0);
    expect(s.tc.queue.statusOf(pending)?.runs.map((r) => r.state)).toEqual(['pending']);

    const back = performance.now();
    rmSync(fill);
    await until(() => worker.stderr().includes('free disk space is back: claiming again'));
    expect(await s.resolved(pending)).toBe('completed');
    const recoveredMs = since(back);
    expect(worker.child.exitCode).toBeNull();
    worker.child.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
    record({
      id: 'R12',
      fault: `the engine's data root (a tmpfs) filled below diskspaceThreshold (${THRESHOLD / MiB} MiB) while a task ran`,
      tried: 1,
      held: 1,
      measured: `${whileShort} claimWork calls while short of space; the running task completed unharmed; the pending task completed ${(recoveredMs / 1000).toFixed(1)} s after the space returned`,
    });
  });
});
