import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildConfig, loadConfig } from './config.js';

describe('worker config', () => {
  it('has a laptop default for every field except secrets', () => {
    const c = buildConfig({});
    expect(c).toMatchObject({
      workerGroup: 'local',
      taskQueueId: 'docker-worker/local',
      cacheVolumePrefix: 'docker-worker-cache-',
      images: { taskclusterProxy: 'docker-worker/taskcluster-proxy:latest' },
      capabilities: { privileged: false, devices: [] },
      keys: {},
      balrog: {
        image: 'docker-worker/balrog-vpn-proxy:latest',
        extraHosts: [],
        probe: { attempts: 15, intervalMs: 1000 },
      },
      testdroid: { image: 'docker-worker/testdroid-proxy:latest' },
    });
    expect(c.workerId).not.toBe('');
    expect(c.testdroid.password).toBeUndefined();
  });

  it('takes the provisioner and worker type from taskQueueId when only that is given', () => {
    expect(buildConfig({ taskQueueId: 'my-provisioner/my-worker-type' })).toMatchObject({
      provisionerId: 'my-provisioner',
      workerType: 'my-worker-type',
      taskQueueId: 'my-provisioner/my-worker-type',
    });
    // Given explicitly, each keeps its own value; the queue is derived from them when absent.
    expect(buildConfig({ taskQueueId: 'p/q', workerType: 'other' })).toMatchObject({
      provisionerId: 'docker-worker',
      workerType: 'other',
      taskQueueId: 'p/q',
    });
    expect(buildConfig({ provisionerId: 'p', workerType: 'w' }).taskQueueId).toBe('p/w');
  });

  it("takes the last docker-worker's names for the same settings, ours winning", () => {
    expect(
      buildConfig({
        dockerConfig: { delayFactor: 2000, randomizationFactor: 0.25 },
        shutdown: { enabled: true },
        ed25519SigningKeyLocation: '/etc/cot.key',
      }),
    ).toMatchObject({
      dockerConfig: { delayFactorMs: 2000 },
      shutdown: { afterIdleSeconds: 300 },
      keys: { ed25519SigningKey: '/etc/cot.key' },
    });
    expect(
      buildConfig({ shutdown: { enabled: false, afterIdleSeconds: 900 } }).shutdown.afterIdleSeconds,
    ).toBe(0);
    expect(
      buildConfig({ shutdown: { enabled: true, afterIdleSeconds: 900 } }).shutdown.afterIdleSeconds,
    ).toBe(900);
    expect(
      buildConfig({
        dockerConfig: { delayFactor: 1, delayFactorMs: 7 },
        ed25519SigningKeyLocation: 'a',
        keys: { ed25519SigningKey: 'b' },
      }),
    ).toMatchObject({ dockerConfig: { delayFactorMs: 7 }, keys: { ed25519SigningKey: 'b' } });
    expect(() => buildConfig({ shutdown: { enabled: 'yes' } })).toThrow(
      /\/shutdown\/enabled must be boolean/,
    );
  });

  it('reads YAML and lists every problem in one line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
    writeFileSync(join(dir, 'ok.yml'), 'workerId: w1\ncapabilities:\n  privileged: true\n');
    expect(await loadConfig(join(dir, 'ok.yml'))).toMatchObject({
      workerId: 'w1',
      capabilities: { privileged: true, devices: [] },
    });
    writeFileSync(join(dir, 'bad.yml'), 'capacity: 0\nnope: 1\n');
    await expect(loadConfig(join(dir, 'bad.yml'))).rejects.toThrow(
      /is invalid: \/nope is not a config key; \/capacity must be >= 1; see the runner README/,
    );
    await expect(loadConfig(join(dir, 'missing.yml'))).rejects.toThrow(
      /cannot read config file .*missing\.yml: no such file or directory \(ENOENT\); give --config the path/,
    );
  });
});
