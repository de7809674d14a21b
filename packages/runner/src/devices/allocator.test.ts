import { describe, expect, it } from 'vitest';
import { buildConfig } from '../config.js';
import { FakeClock } from '../testing/fake-clock.js';
import { DeviceAllocator } from './allocator.js';
import type { HostProbe } from './host-nodes.js';

const probe = (nodes: string[]): HostProbe => ({
  exists: (p) => nodes.includes(p),
  list: (dir) => nodes.filter((n) => n.startsWith(`${dir}/`)).map((n) => n.slice(dir.length + 1)),
  cpus: () => 2,
});

describe('device allocator', () => {
  it('two tasks asking for the one loopback video device on a capacity-2 worker never hold it at once', async () => {
    const config = buildConfig({ capacity: 2, deviceManagement: { loopbackVideo: { enabled: true } } });
    const devices = new DeviceAllocator(config, probe(['/dev/video0']));
    const clock = new FakeClock();
    expect(devices.claimable()).toBe(1); // the worker asks the queue for one task, not two
    const holding: string[] = [];
    let most = 0;
    const task = async (name: string, seconds: number): Promise<void> => {
      const lease = await devices.acquire(['loopbackVideo']);
      holding.push(name);
      most = Math.max(most, holding.length);
      expect(lease.units.map((u) => u.devices)).toEqual([['/dev/video0']]);
      await clock.sleep(seconds * 1000);
      holding.splice(holding.indexOf(name), 1);
      lease.release();
    };
    const both = Promise.all([task('a', 10), task('b', 10)]);
    await clock.advance(0);
    expect(holding).toHaveLength(1);
    expect(devices.claimable()).toBe(0);
    await clock.advance(10_000);
    expect(holding).toHaveLength(1);
    await clock.advance(10_000);
    await both;
    expect(most).toBe(1);
    expect(devices.claimable()).toBe(1);
  });

  it('says which device is off or missing, naming the config key', () => {
    const config = buildConfig({ deviceManagement: { kvm: { enabled: true } } });
    const devices = new DeviceAllocator(config, probe(['/dev/shm']));
    expect(devices.problems(['kvm', 'hostSharedMemory'])).toEqual([
      'device "kvm" is enabled (worker config deviceManagement.kvm.enabled) but this host has no /dev/kvm (KVM support)',
      'device "hostSharedMemory" is not enabled on this worker (worker config deviceManagement.hostSharedMemory.enabled is false)',
    ]);
  });

  it('shares /dev/shm and gives one core per task under restrictCPU', async () => {
    const config = buildConfig({
      restrictCPU: true,
      deviceManagement: { hostSharedMemory: { enabled: true } },
    });
    const devices = new DeviceAllocator(config, probe(['/dev/shm']));
    const a = await devices.acquire(['hostSharedMemory']);
    const b = await devices.acquire(['hostSharedMemory']);
    expect(a.units.flatMap((u) => u.binds)).toEqual(['/dev/shm:/dev/shm']);
    expect([a, b].map((l) => l.units.find((u) => u.cpuset)?.cpuset)).toEqual(['0', '1']);
    expect(devices.claimable()).toBe(0);
    const aborted = new AbortController();
    const c = devices.acquire([], aborted.signal);
    aborted.abort(new Error('gone'));
    await expect(c).rejects.toThrow('gone');
    a.release();
    expect(devices.claimable()).toBe(1);
    b.release();
  });
});
