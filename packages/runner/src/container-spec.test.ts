import { describe, expect, it } from 'vitest';
import { SpecBuilder } from './container-spec.js';

describe('SpecBuilder', () => {
  it('merges env as feature < task < reserved', () => {
    const spec = new SpecBuilder();
    spec.merge({ env: { TASKCLUSTER_PROXY_URL: 'http://taskcluster', A: 'feature' } });
    spec.merge({
      taskEnv: { A: 'task', TASK_ID: 'mine' },
      reservedEnv: { TASK_ID: 'real' },
      image: 'sha256:x',
    });
    const built = spec.build({ labels: {}, network: 'n' });
    expect(built.env).toEqual({ TASKCLUSTER_PROXY_URL: 'http://taskcluster', A: 'task', TASK_ID: 'real' });
    expect(built.privileged).toBe(false);
    expect(built.network).toBe('n');
  });

  it('never mounts the Docker socket', () => {
    const spec = new SpecBuilder();
    spec.merge({ image: 'x', binds: ['/var/run/docker.sock:/var/run/docker.sock'] });
    expect(() => spec.build({ labels: {}, network: 'n' })).toThrow(/Docker socket/);
  });

  it('needs an image', () => {
    expect(() => new SpecBuilder().build({ labels: {}, network: 'n' })).toThrow(
      /no feature resolved an image/,
    );
  });
});
