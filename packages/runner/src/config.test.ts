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

  it('takes a whole workerConfig of the last docker-worker: its other names moved, its keys with no counterpart named', () => {
    const config = buildConfig({
      capacity: 2,
      garbageCollection: { imageExpiration: 90_000_000, interval: 30_000, containerExpiration: 1_800_000 },
      interactive: { minTime: 300, expirationAfterSession: 1800, ssl: true, artifactName: 'private/dw/' },
      task: { reclaimDivisor: 3, dequeueCount: 15, maxSetupTime: 600 },
      taskQueue: { pollInterval: 5000 },
      instanceId: 'i-0abc',
      region: 'us-west-2',
      logging: { secureLiveLogging: false, liveLogChunkInterval: 5000 },
      alivenessCheckInterval: 30_000,
      dockerVolume: '/mnt',
      cache: { volumeCachePath: '/mnt/var/cache/docker-worker' },
      artifacts: { skipCompressionExtensions: ['.gz'] },
      statelessHostname: { enabled: false },
      dockerConfig: { defaultRegistry: 'registry.hub.docker.com', maxAttempts: 5 },
    });
    expect(config).toMatchObject({
      capacity: 2,
      garbageCollection: { imageExpirationSeconds: 90_000, intervalSeconds: 30 },
      interactive: {
        minTimeSeconds: 300,
        expirationAfterSessionSeconds: 1800,
        artifactName: 'private/dw/shell.html',
      },
      reclaimDivisor: 3,
      pollingIntervalMs: 5000,
      chainOfTrust: { instanceId: 'i-0abc', region: 'us-west-2' },
    });
    expect([...(config.ignoredKeys ?? [])].sort()).toEqual([
      'alivenessCheckInterval',
      'artifacts.skipCompressionExtensions',
      'cache',
      'dockerConfig.defaultRegistry',
      'dockerVolume',
      'garbageCollection.containerExpiration',
      'interactive.ssl',
      'logging',
      'statelessHostname',
      'task.dequeueCount',
      'task.maxSetupTime',
    ]);
    // Milliseconds round up to whole seconds (0 s would mean something else); 0 or less stays, named.
    expect(buildConfig({ garbageCollection: { interval: 400 } }).garbageCollection.intervalSeconds).toBe(1);
    expect(() => buildConfig({ garbageCollection: { imageExpiration: -1 } })).toThrow(
      /\/garbageCollection\/imageExpiration is not a config key/,
    );
    // Not an object at all: the check's usage error, not a crash.
    expect(() => buildConfig('foo')).toThrow(/config is invalid: \/ must be object/);
    // Ours win; a value of the wrong type is still named by the check.
    expect(
      buildConfig({
        garbageCollection: { interval: 5000, intervalSeconds: 9 },
        region: 'a',
        chainOfTrust: { region: 'b' },
      }),
    ).toMatchObject({ garbageCollection: { intervalSeconds: 9 }, chainOfTrust: { region: 'b' } });
    expect(() => buildConfig({ interactive: { minTime: 'long' } })).toThrow(
      /\/interactive\/minTime is not a config key/,
    );
    expect(buildConfig({}).ignoredKeys).toBeUndefined();
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
