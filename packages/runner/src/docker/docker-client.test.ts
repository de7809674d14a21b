import type Docker from 'dockerode';
import type { Agent } from 'node:http';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { createDockerClient, defaultEngine } from './docker-client.js';

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

  it("gives the engine's modem an agent that is cheap to format and works out no TLS name per request", () => {
    const prior = process.env.DOCKER_HOST;
    delete process.env.DOCKER_HOST; // the default socket
    try {
      const modem = defaultEngine().modem as unknown as {
        agent: Agent & { options: { servername?: string } };
      };
      // docker-modem formats every request's options, agent included, with these options.
      expect(inspect({ agent: modem.agent }, { showHidden: true, depth: null })).toBe(
        '{ agent: EngineAgent }',
      );
      expect(modem.agent.options.servername).toBe('');
      expect((modem.agent as unknown as { keepAlive: boolean }).keepAlive).toBe(true);
    } finally {
      if (prior !== undefined) process.env.DOCKER_HOST = prior;
    }
  });
});
