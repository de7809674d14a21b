/**
 * @module devices/allocator
 * Hands host devices to tasks, each exclusive unit (a loopback video or audio device, a core under
 * restrictCPU) to one task at a time; shared kinds (host /dev/shm, /dev/kvm) to any number. One
 * allocator per worker (`devicesFor(config)`), used by local and queue mode alike: the capabilities
 * feature acquires for a run and releases when it stops; the claim loop never asks the queue for
 * more tasks than `claimable()`, so a claimed task finds its device free. `acquire` waits (in order)
 * while a unit it needs is held, so two runs never hold one unit at once, whatever the caller does.
 */
import type { DeviceKind, WorkerConfig } from '../config.js';
import {
  discover,
  hostProbe,
  type AllocatedKind,
  type DeviceUnit,
  type HostProbe,
  type KindInfo,
} from './host-nodes.js';

export const DEVICE_KINDS: readonly DeviceKind[] = [
  'loopbackVideo',
  'loopbackAudio',
  'hostSharedMemory',
  'kvm',
];

/** What a run was given; `release()` (idempotent) hands the exclusive units back. */
export interface DeviceLease {
  units: DeviceUnit[];
  release(): void;
}

interface Waiter {
  kinds: AllocatedKind[];
  grant: (lease: DeviceLease) => void;
}

type Config = Pick<WorkerConfig, 'deviceManagement' | 'restrictCPU' | 'capabilities'>;

export class DeviceAllocator {
  private readonly kinds = new Map<AllocatedKind, KindInfo>();
  private readonly held = new Set<string>();
  private readonly waiting: Waiter[] = [];

  constructor(
    private readonly config: Config,
    private readonly probe: HostProbe = hostProbe,
  ) {}

  /** Whether the worker config enables the kind (deviceManagement.<kind>.enabled; restrictCPU for cpu). */
  enabled(kind: AllocatedKind): boolean {
    if (kind === 'cpu') return this.config.restrictCPU === true;
    if (this.config.deviceManagement?.[kind]?.enabled === true) return true;
    // The older form: capabilities.devices naming the kind or its node.
    const legacy = this.config.capabilities?.devices ?? [];
    return legacy.includes(kind) || (kind === 'kvm' && legacy.includes('/dev/kvm'));
  }

  /** Why each kind cannot be given on this worker (disabled, or the host lacks it); [] when all can. */
  problems(kinds: readonly DeviceKind[]): string[] {
    return kinds.flatMap((kind) => {
      const key = `deviceManagement.${kind}.enabled`;
      if (!this.enabled(kind))
        return [`device "${kind}" is not enabled on this worker (worker config ${key} is false)`];
      const info = this.info(kind);
      if (info.units.length === 0)
        return [`device "${kind}" is enabled (worker config ${key}) but this host has no ${info.missing}`];
      return [];
    });
  }

  /** The kinds every run takes besides those it asks for (a core under restrictCPU). */
  private always(): AllocatedKind[] {
    return this.enabled('cpu') ? ['cpu'] : [];
  }

  /**
   * Units of the asked kinds plus the always-taken ones, waiting while one is held. Call
   * `problems` first: a kind without units is skipped here. Rejects with the signal's reason.
   */
  acquire(kinds: readonly DeviceKind[], signal?: AbortSignal): Promise<DeviceLease> {
    const all = [...new Set<AllocatedKind>([...kinds, ...this.always()])];
    return new Promise<DeviceLease>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason as Error);
      const waiter: Waiter = {
        kinds: all,
        grant: (lease) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(lease);
        },
      };
      const onAbort = (): void => {
        const i = this.waiting.indexOf(waiter);
        if (i >= 0) this.waiting.splice(i, 1);
        reject(signal?.reason as Error);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(waiter);
      this.grantWaiting();
    });
  }

  /** How many more tasks could get every exclusive kind this worker enables (Infinity: no limit). */
  claimable(): number {
    let min = Infinity;
    for (const kind of [...DEVICE_KINDS, 'cpu' as const]) {
      if (!this.enabled(kind)) continue;
      const info = this.info(kind);
      if (!info.exclusive || info.units.length === 0) continue;
      min = Math.min(min, info.units.filter((u) => !this.held.has(u.id)).length - this.waitingFor(kind));
    }
    return Math.max(0, min);
  }

  private waitingFor(kind: AllocatedKind): number {
    return this.waiting.filter((w) => w.kinds.includes(kind)).length;
  }

  private info(kind: AllocatedKind): KindInfo {
    let info = this.kinds.get(kind);
    if (!info) {
      info = discover(kind, this.probe);
      this.kinds.set(kind, info);
    }
    return info;
  }

  /** A free unit of each kind, or undefined when an exclusive kind has none free. */
  private pick(kinds: AllocatedKind[]): DeviceUnit[] | undefined {
    const units: DeviceUnit[] = [];
    for (const kind of kinds) {
      const info = this.info(kind);
      if (info.units.length === 0) continue;
      const unit = info.exclusive ? info.units.find((u) => !this.held.has(u.id)) : info.units[0];
      if (!unit) return undefined;
      units.push(unit);
    }
    return units;
  }

  private grantWaiting(): void {
    for (const waiter of [...this.waiting]) {
      const units = this.pick(waiter.kinds);
      if (!units) continue;
      this.waiting.splice(this.waiting.indexOf(waiter), 1);
      const exclusive = units.filter((u) => waiter.kinds.some((k) => this.isExclusiveUnit(k, u)));
      for (const u of exclusive) this.held.add(u.id);
      let released = false;
      waiter.grant({
        units,
        release: () => {
          if (released) return;
          released = true;
          for (const u of exclusive) this.held.delete(u.id);
          this.grantWaiting();
        },
      });
    }
  }

  private isExclusiveUnit(kind: AllocatedKind, unit: DeviceUnit): boolean {
    const info = this.info(kind);
    return info.exclusive && info.units.includes(unit);
  }
}

const perWorker = new WeakMap<object, DeviceAllocator>();

/** The worker's allocator: one per config object (the worker and every run it starts share it). */
export function devicesFor(config: Config): DeviceAllocator {
  let allocator = perWorker.get(config);
  if (!allocator) {
    allocator = new DeviceAllocator(config);
    perWorker.set(config, allocator);
  }
  return allocator;
}

/** Tests: the allocator a config's runs and worker use (e.g. one with a fake host probe). */
export function useDevices(config: Config, allocator: DeviceAllocator): void {
  perWorker.set(config, allocator);
}
