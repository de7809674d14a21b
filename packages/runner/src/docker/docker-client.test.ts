import type Docker from 'dockerode';
import { describe, expect, it } from 'vitest';
import { createDockerClient } from './docker-client.js';

describe('createDockerClient', () => {
  it('asks the engine for its data root once (docker info is costly), and again after a failure', async () => {
    let calls = 0;
    let fail = true;
    const engine = {
      info: async () => {
        calls++;
        if (fail) throw Object.assign(new Error('connect ENOENT /var/run/docker.sock'), { code: 'ENOENT' });
        return { DockerRootDir: '/var/lib/docker' };
      },
    } as unknown as Docker;
    const docker = createDockerClient(engine);
    await expect(docker.dataRoot()).rejects.toThrow(/ENOENT/);
    fail = false;
    expect(await docker.dataRoot()).toBe('/var/lib/docker');
    expect(await docker.dataRoot()).toBe('/var/lib/docker');
    expect(calls).toBe(2);
  });
});
