/**
 * @module testing/fake-docker
 * An in-memory DockerClient for lifecycle unit tests: containers "run" until `exit(id, code)` or
 * a kill, print a configured output, and every created resource is tracked until removed.
 */
import { PassThrough, Readable } from 'node:stream';
import { FakeImageEngine } from './fake-image-engine.js';
import type { ContainerSpec, DockerClient, Resource, ResourceKind } from '../docker/docker-client.js';

interface FakeContainer {
  spec: ContainerSpec;
  output: PassThrough;
  exited: Promise<number>;
  exit: (code: number) => void;
  running: boolean;
  attached: boolean;
}

export class FakeDocker implements DockerClient {
  readonly resources = new Map<string, Resource>();
  /** Whether each network lets its containers talk to each other. */
  readonly networkIcc = new Map<string, boolean>();
  readonly containers = new Map<string, FakeContainer>();
  readonly images = new Set<string>(['debian:bookworm-slim']);
  readonly imageEngine = new FakeImageEngine(this.images);
  /**
   * What each container prints and its exit code (none: it runs until stopped or killed), and what
   * it prints when stopped gracefully (a SIGKILL, as by a forced remove, prints nothing).
   */
  script: { output: string; exitCode?: number; stopOutput?: string } = { output: '', exitCode: 0 };
  /** Every graceful stop asked for, in order. */
  readonly stops: { id: string; graceSeconds: number }[] = [];
  /** Every container killed (SIGKILL asked for), in order. */
  readonly kills: string[] = [];
  /** Every container started, in order. */
  readonly started: string[] = [];
  /** The address inspectContainer reports (tests point it at a loopback server). */
  ip = '127.0.0.1';
  private next = 0;
  private startWaiters: ((id: string) => void)[] = [];

  /** Resolves with the id of the next container that starts (no polling in tests). */
  nextStart(): Promise<string> {
    return new Promise((resolve) => this.startWaiters.push(resolve));
  }

  /** Resolves with the ids of the first `count` containers started, once that many have started. */
  async untilStarted(count: number): Promise<string[]> {
    while (this.started.length < count) await this.nextStart();
    return this.started.slice(0, count);
  }

  /** Ends a running container as if its command exited with `code`. */
  exit(id: string, code: number): void {
    this.get(id).exit(code);
  }

  /** Ids of the containers still running. */
  get running(): string[] {
    return [...this.containers].filter(([, c]) => c.running).map(([id]) => id);
  }

  async ping(): Promise<void> {}
  async dataRoot(): Promise<string> {
    return '/var/lib/docker';
  }
  async inspectImage(name: string) {
    const loaded = this.imageEngine.idOf(name);
    if (loaded) return { id: loaded };
    return this.images.has(name) ? { id: `sha256:${name}` } : undefined;
  }
  async createNetwork(name: string, labels: Record<string, string>, opts?: { icc?: boolean }) {
    this.resources.set(name, { kind: 'network', id: name, labels });
    this.networkIcc.set(name, opts?.icc !== false);
    return { id: name, name, gateway: '172.30.0.1', icc: opts?.icc !== false };
  }
  async inspectNetwork(name: string) {
    const r = this.resources.get(name);
    if (r?.kind !== 'network') return undefined;
    return {
      id: name,
      name,
      gateway: '172.30.0.1',
      bridge: name === 'bridge' ? 'docker0' : `br-${name}`,
      icc: this.networkIcc.get(name) ?? true,
    };
  }
  /** As the engine: a volume of that name is kept as it is. */
  async createVolume(name: string, labels: Record<string, string>): Promise<void> {
    if (!this.resources.has(name))
      this.resources.set(name, { kind: 'volume', id: name, labels, created: new Date().toJSON() });
  }
  async createContainer(spec: ContainerSpec): Promise<string> {
    const id = `c${++this.next}`;
    let exit = (_code: number): void => undefined;
    const exited = new Promise<number>((resolve) => (exit = resolve));
    const container: FakeContainer = {
      spec,
      output: new PassThrough(),
      exited,
      exit,
      running: false,
      attached: false,
    };
    exited.then(() => {
      container.running = false;
      container.output.end();
    });
    this.containers.set(id, container);
    this.resources.set(id, { kind: 'container', id, labels: spec.labels });
    return id;
  }
  async startContainer(id: string): Promise<void> {
    const c = this.get(id);
    if (!c.attached)
      throw new Error(`FakeDocker: attachOutput(${id}) must come before startContainer, or output is lost`);
    c.running = true;
    c.output.write(this.script.output);
    if (this.script.exitCode !== undefined) c.exit(this.script.exitCode);
    this.started.push(id);
    const waiters = this.startWaiters;
    this.startWaiters = [];
    for (const fn of waiters) fn(id);
  }
  waitContainer(id: string): Promise<number> {
    return this.get(id).exited;
  }
  async attachOutput(id: string): Promise<Readable> {
    const c = this.get(id);
    c.attached = true;
    return c.output;
  }
  async inspectContainer(id: string) {
    const c = this.get(id);
    return {
      ip: this.ip,
      running: c.running,
      exitCode: c.running ? 0 : (this.script.exitCode ?? 137),
      oomKilled: false,
      image: `sha256:${c.spec.image}`,
    };
  }
  async stopContainer(id: string, graceSeconds: number): Promise<void> {
    this.stops.push({ id, graceSeconds });
    const c = this.containers.get(id);
    if (!c?.running) return; // 304 or 404: fine
    if (this.script.stopOutput) c.output.write(this.script.stopOutput);
    c.exit(143);
    await c.exited;
  }
  /** As the engine: killing a container that is not running (yet) does nothing (409, taken as gone). */
  async killContainer(id: string): Promise<void> {
    const c = this.get(id);
    if (!c.running) return;
    this.kills.push(id);
    c.exit(137);
  }
  async getArchive(_id: string, _path: string): Promise<Readable> {
    return Readable.from([]);
  }
  async listByLabel(kind: ResourceKind, labels: string[]): Promise<Resource[]> {
    return [...this.resources.values()].filter(
      (r) =>
        r.kind === kind &&
        labels.every((l) => {
          const [k = '', v] = l.split('=');
          return v === undefined ? k in r.labels : r.labels[k] === v;
        }),
    );
  }
  async remove(r: Pick<Resource, 'kind' | 'id'>): Promise<void> {
    this.containers.get(r.id)?.exit(137);
    this.resources.delete(r.id);
  }
  private get(id: string): FakeContainer {
    const c = this.containers.get(id);
    if (!c) throw new Error(`no container ${id}`);
    return c;
  }
}
