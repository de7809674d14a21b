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
