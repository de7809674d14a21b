import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { builtinFeatures } from '../features/index.js';
import { runTask } from '../task-run.js';
import { FakeDocker } from '../testing/fake-docker.js';
import { fakeRun } from '../testing/fake-run.js';
import { iptablesFirewall } from './host-firewall.js';
import { LABEL, sweepLeftovers } from './labels.js';
import { DEFAULT_BRIDGE, sharedNetwork, sharedNetworkName } from './shared-network.js';

const log = pino({ level: 'silent' });
const NAME = sharedNetworkName('test-worker');

describe('sharedNetwork', () => {
  it('creates the network once, with inter-container traffic off, labelled as the shared network', async () => {
    const docker = new FakeDocker();
    const shared = sharedNetwork({ docker, workerId: 'test-worker', log });
    const [a, b] = await Promise.all([shared(), shared()]);
    expect(a).toBe(b);
    expect(a).toMatchObject({ name: NAME, icc: false });
    expect(docker.networkIcc.get(NAME)).toBe(false);
    expect(docker.resources.get(NAME)?.labels).toEqual({
      [LABEL.managed]: 'true',
      [LABEL.workerId]: 'test-worker',
      [LABEL.role]: 'shared-network',
    });
    // Another process finds it and uses it as it is.
    const again = await sharedNetwork({ docker, workerId: 'test-worker', log })();
    expect(again).toMatchObject({ name: NAME, icc: false });
    expect([...docker.resources.values()].filter((r) => r.kind === 'network')).toHaveLength(1);
  });

  it('refuses a network of that name that lets containers talk to each other, saying how to fix it', async () => {
    const docker = new FakeDocker();
    await docker.createNetwork(NAME, {});
    await expect(sharedNetwork({ docker, workerId: 'test-worker', log })()).rejects.toThrow(
      `the network ${NAME} lets its containers talk to each other (it was not made by docker-worker with com.docker.network.bridge.enable_icc=false); remove it (docker network rm ${NAME}) and the worker makes it again`,
    );
  });

  it('is never swept, though the process that made it is gone', async () => {
    const docker = new FakeDocker();
    await sharedNetwork({ docker, workerId: 'test-worker', log })();
    expect(await sweepLeftovers(docker, 'test-worker')).toBe(0);
    expect(docker.resources.has(NAME)).toBe(true);
  });

  it('fences its bridge with the host firewall once, however often it is asked', async () => {
    const rules: string[] = [];
    const fw = iptablesFirewall(async (args) => {
      if (args[0] === '-S') return rules.join('\n');
      rules.push(`-A INPUT ${args.slice(2).join(' ')}`.replace(/docker-worker:\S+/, (c) => `"${c}"`));
      return '';
    });
    await fw.isolateShared('br-shared', NAME);
    await fw.isolateShared('br-shared', NAME);
    expect(rules).toHaveLength(2);
    expect(rules.some((r) => r.includes('-i br-shared') && r.includes(' -j REJECT'))).toBe(true);
    expect(rules.some((r) => r.includes('ESTABLISHED,RELATED') && r.includes(' -j ACCEPT'))).toBe(true);
  });
});

/** A FakeDocker whose default bridge has inter-container traffic on or off (dockerd --icc). */
function engineWithDefaultBridge(icc: boolean): FakeDocker {
  const docker = new FakeDocker();
  docker.resources.set(DEFAULT_BRIDGE, { kind: 'network', id: DEFAULT_BRIDGE, labels: {} });
  docker.networkIcc.set(DEFAULT_BRIDGE, icc);
  return docker;
}

describe("the engine's default bridge", () => {
  it('is used, and nothing is created, when the engine keeps its containers apart (dockerd --icc=false)', async () => {
    const docker = engineWithDefaultBridge(false);
    const fenced: string[] = [];
    const firewall = {
      isolate: () => Promise.reject(new Error('not for the shared network')),
      isolateShared: async (bridge: string, network: string) => void fenced.push(`${bridge}:${network}`),
      sweep: async () => 0,
      probe: async () => undefined,
      removeNetwork: async () => 0,
    };
    const net = await sharedNetwork({ docker, workerId: 'test-worker', log, firewall })();
    expect(net).toMatchObject({ name: DEFAULT_BRIDGE, icc: false });
    expect(docker.resources.has(NAME)).toBe(false);
    expect(fenced).toEqual([`${net.bridge}:${DEFAULT_BRIDGE}`]);
  });

  it("is not used when its containers can talk to each other: the worker's own network is", async () => {
    const docker = engineWithDefaultBridge(true);
    expect(await sharedNetwork({ docker, workerId: 'test-worker', log })()).toMatchObject({
      name: NAME,
      icc: false,
    });
  });

  it('is not used when taskContainer.defaultBridge is false', async () => {
    const docker = engineWithDefaultBridge(false);
    const net = await sharedNetwork({ docker, workerId: 'test-worker', log, defaultBridge: false })();
    expect(net).toMatchObject({ name: NAME, icc: false });
  });

  it('takes a task without a sidecar, with no network aliases', async () => {
    const docker = engineWithDefaultBridge(false);
    const { run } = fakeRun({
      docker,
      sharedNetwork: sharedNetwork({ docker, workerId: 'test-worker', log }),
    });
    expect(await runTask(run, builtinFeatures)).toMatchObject({ state: 'completed', exitCode: 0 });
    const [task] = [...docker.containers.values()];
    expect(task?.spec.network).toBe(DEFAULT_BRIDGE);
    expect(task?.spec.aliases ?? []).toEqual([]);
    expect([...docker.resources.keys()]).toEqual([DEFAULT_BRIDGE]);
  });
});

describe('a run with the shared network', () => {
  it('puts a task without a sidecar on it, and removes the container but not the network', async () => {
    const docker = new FakeDocker();
    const { run } = fakeRun({
      docker,
      sharedNetwork: sharedNetwork({ docker, workerId: 'test-worker', log }),
    });
    const outcome = await runTask(run, builtinFeatures);
    expect(outcome).toMatchObject({ state: 'completed', exitCode: 0 });
    const [task] = [...docker.containers.values()];
    expect(task?.spec.network).toBe(NAME);
    expect([...docker.resources.keys()]).toEqual([NAME]);
  });

  it('gives a task whose sidecar made a network of its own that network', async () => {
    const docker = new FakeDocker();
    const { run } = fakeRun({
      docker,
      sharedNetwork: sharedNetwork({ docker, workerId: 'test-worker', log }),
    });
    const own = await run.network(); // what a sidecar feature does first
    expect((await run.taskNetwork()).name).toBe(own.name);
    expect(own.name).not.toBe(NAME);
  });
});
