/**
 * @module devices/host-nodes
 * What a device kind is on this host: its units (exclusive kinds: one unit per task at a time;
 * shared kinds: one unit everyone uses) and what each unit gives the task container. Reads the
 * host through `HostProbe` (injected in tests), as the last docker-worker's device managers did.
 */
import { existsSync, readdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import type { DeviceKind } from '../config.js';

export interface HostProbe {
  exists(path: string): boolean;
  /** Entry names of a directory; [] when it is missing. */
  list(dir: string): string[];
  cpus(): number;
}

export const hostProbe: HostProbe = {
  exists: existsSync,
  list: (dir) => {
    try {
      return readdirSync(dir);
    } catch {
      return [];
    }
  },
  cpus: availableParallelism,
};

/** What one unit gives the task container. */
export interface DeviceUnit {
  id: string;
  /** Device nodes (`/dev/x`, same path inside). */
  devices: string[];
  /** Bind mounts (`/dev/shm:/dev/shm`). */
  binds: string[];
  /** restrictCPU: the core (HostConfig.CpusetCpus). */
  cpuset?: string;
}

export type AllocatedKind = DeviceKind | 'cpu';

export interface KindInfo {
  exclusive: boolean;
  units: DeviceUnit[];
  /** What the host is missing when there are no units (for the error). */
  missing: string;
}

const numbered = (names: string[], re: RegExp): string[] =>
  names
    .map((n) => re.exec(n)?.[1])
    .filter((n): n is string => n !== undefined)
    .sort((a, b) => Number(a) - Number(b));

export function discover(kind: AllocatedKind, probe: HostProbe): KindInfo {
  switch (kind) {
    case 'loopbackVideo':
      return {
        exclusive: true,
        missing: '/dev/video<N> (the v4l2loopback kernel module)',
        units: numbered(probe.list('/dev'), /^video([0-9]+)$/).map((n) => ({
          id: `/dev/video${n}`,
          devices: [`/dev/video${n}`],
          binds: [],
        })),
      };
    case 'loopbackAudio':
      return {
        exclusive: true,
        missing: '/dev/snd/controlC<N> (the snd-aloop kernel module)',
        units: numbered(probe.list('/dev/snd'), /^controlC([0-9]+)$/).map((n) => ({
          id: `/dev/snd/controlC${n}`,
          devices: [`controlC${n}`, `pcmC${n}D0c`, `pcmC${n}D0p`, `pcmC${n}D1c`, `pcmC${n}D1p`]
            .map((node) => `/dev/snd/${node}`)
            .filter((path, i) => i === 0 || probe.exists(path)),
          binds: [],
        })),
      };
    case 'hostSharedMemory':
      return {
        exclusive: false,
        missing: '/dev/shm',
        units: probe.exists('/dev/shm')
          ? [{ id: '/dev/shm', devices: [], binds: ['/dev/shm:/dev/shm'] }]
          : [],
      };
    case 'kvm':
      return {
        exclusive: false,
        missing: '/dev/kvm (KVM support)',
        units: probe.exists('/dev/kvm') ? [{ id: '/dev/kvm', devices: ['/dev/kvm'], binds: [] }] : [],
      };
    case 'cpu':
      return {
        exclusive: true,
        missing: 'CPUs',
        units: Array.from({ length: probe.cpus() }, (_, i) => ({
          id: `cpu${i}`,
          devices: [],
          binds: [],
          cpuset: String(i),
        })),
      };
  }
}
