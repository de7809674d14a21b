/**
 * @module testing/sim-state
 * The state of the simulated Testdroid cloud: devices and their labels, sessions, and flash-project
 * runs that move WAITING → RUNNING → FINISHED on the simulator's clock (computed lazily by `tick`).
 */
export interface SimDeviceSpec {
  id?: number;
  displayName?: string;
  /** Codename, e.g. `flame`. */
  type: string;
  sims?: string;
  memory: string;
  /** The build the device runs; its `Build Identifier` label is `<memory>_<build>`. */
  build: string;
  imei?: string;
  phoneNumber?: string;
  online?: boolean;
  locked?: boolean;
  /** Extra `{propertyGroupName, displayName}` entries for `devices/<id>/properties`. */
  properties?: { propertyGroupName: string; displayName: string }[];
}

export interface SimDevice {
  id: number;
  displayName: string;
  type: string;
  sims?: string;
  memory: string;
  buildLabel: string;
  imei?: string;
  phoneNumber?: string;
  online: boolean;
  locked: boolean;
  properties: { propertyGroupName: string; displayName: string }[];
}

export interface SimSession {
  id: number;
  deviceId: number;
  timeoutSec: number;
  state: 'active' | 'released';
  createdAt: number;
  releasedAt?: number;
}

export interface SimRun {
  id: number;
  projectId: number;
  state: 'CREATED' | 'WAITING' | 'RUNNING' | 'FINISHED';
  createTime: number;
  startedAt?: number;
  deviceIds: number[];
  parameters: { id: number; key: string; value: string }[];
  deviceRunStatus?: 'WAITING' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'ABORTED';
  /** How the run ends, fixed when it starts (so changing `flash.fail` later does not alter it). */
  willFail?: boolean;
}

export interface FlashBehaviour {
  /** Time a started run stays WAITING (default 1 s). */
  waitingMs: number;
  /** Time it then stays RUNNING (default 2 s). */
  runningMs: number;
  /** Time the flashed device stays offline after FINISHED (default 0). */
  rebootMs: number;
  /** The device run ends FAILED and the device keeps its build (default false). */
  fail: boolean;
}

export const LABEL_GROUPS = [
  { id: 25, displayName: 'Codename' },
  { id: 73, displayName: 'SIMs' },
  { id: 31, displayName: 'IMEI' },
  { id: 32, displayName: 'Phone Number' },
  { id: 41, displayName: 'Build Identifier' },
  { id: 42, displayName: 'memory' },
] as const;

export const FLASH_PROJECT = { id: 7001, name: 'flash-fxos-new-url' };

export class SimState {
  readonly devices: SimDevice[] = [];
  readonly sessions: SimSession[] = [];
  readonly runs: SimRun[] = [];
  private readonly labels = new Map<string, number>();
  private readonly rebootUntil = new Map<number, number>();
  private nextId = 1000;

  constructor(
    readonly now: () => number,
    readonly flash: FlashBehaviour,
  ) {}

  id(): number {
    return this.nextId++;
  }

  addDevice(spec: SimDeviceSpec): SimDevice {
    const id = spec.id ?? this.id();
    const device: SimDevice = {
      id,
      displayName: spec.displayName ?? `${spec.type} ${id}`,
      type: spec.type,
      sims: spec.sims,
      memory: spec.memory,
      buildLabel: `${spec.memory}_${spec.build}`,
      imei: spec.imei,
      phoneNumber: spec.phoneNumber,
      online: spec.online ?? true,
      locked: spec.locked ?? false,
      properties: spec.properties ?? [],
    };
    this.devices.push(device);
    this.registerLabels(device);
    return device;
  }

  /** (group id, value) pairs of a device. */
  labelsOf(d: SimDevice): [number, string][] {
    const pairs: [number, string | undefined][] = [
      [25, d.type],
      [73, d.sims],
      [31, d.imei],
      [32, d.phoneNumber],
      [41, d.buildLabel],
      [42, d.memory],
    ];
    return pairs.filter((p): p is [number, string] => p[1] !== undefined);
  }

  labelId(groupId: number, value: string): number {
    const key = `${groupId}\u0000${value}`;
    let id = this.labels.get(key);
    if (id === undefined) {
      id = this.id();
      this.labels.set(key, id);
    }
    return id;
  }

  /** Labels of a group whose value contains `search` (case-insensitive), like the cloud's search. */
  searchLabels(groupId: number, search: string): { id: number; displayName: string }[] {
    const out: { id: number; displayName: string }[] = [];
    for (const [key, id] of this.labels) {
      const [g, value] = key.split('\u0000') as [string, string];
      if (Number(g) === groupId && value.toLowerCase().includes(search.toLowerCase()))
        out.push({ id, displayName: value });
    }
    return out;
  }

  deviceLabelIds(d: SimDevice): number[] {
    return this.labelsOf(d).map(([g, v]) => this.labelId(g, v));
  }

  /** Moves runs and rebooting devices forward to `now()`. */
  tick(): void {
    const now = this.now();
    for (const run of this.runs) {
      if (run.startedAt === undefined || run.state === 'FINISHED') continue;
      const elapsed = now - run.startedAt;
      if (elapsed < this.flash.waitingMs) continue;
      if (elapsed < this.flash.waitingMs + this.flash.runningMs) {
        run.state = 'RUNNING';
        run.deviceRunStatus = 'RUNNING';
        continue;
      }
      this.finish(run, run.willFail ? 'FAILED' : 'SUCCEEDED');
    }
    for (const [deviceId, until] of this.rebootUntil) {
      const device = this.devices.find((d) => d.id === deviceId);
      if (device && now >= until) {
        device.online = true;
        this.rebootUntil.delete(deviceId);
      }
    }
  }

  startRun(run: SimRun, deviceIds: number[]): void {
    run.deviceIds = deviceIds;
    run.startedAt = this.now();
    run.state = 'WAITING';
    run.deviceRunStatus = 'WAITING';
    run.willFail = this.flash.fail;
    for (const d of this.devices) if (deviceIds.includes(d.id)) d.locked = true;
  }

  finish(run: SimRun, status: 'SUCCEEDED' | 'FAILED' | 'ABORTED'): void {
    run.state = 'FINISHED';
    run.deviceRunStatus = status;
    const param = (key: string): string | undefined => run.parameters.find((p) => p.key === key)?.value;
    for (const d of this.devices) {
      if (!run.deviceIds.includes(d.id)) continue;
      d.locked = false;
      if (status !== 'SUCCEEDED') continue;
      d.buildLabel = param('BUILD_LABEL') ?? d.buildLabel;
      d.memory = param('MEM_TOTAL') ?? d.memory;
      this.registerLabels(d);
      if (this.flash.rebootMs > 0) {
        d.online = false;
        this.rebootUntil.set(
          d.id,
          (run.startedAt ?? 0) + this.flash.waitingMs + this.flash.runningMs + this.flash.rebootMs,
        );
      }
    }
  }

  private registerLabels(d: SimDevice): void {
    for (const [g, v] of this.labelsOf(d)) this.labelId(g, v);
  }
}
