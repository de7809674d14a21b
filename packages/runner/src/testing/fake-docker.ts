/**
 * @module testing/fake-docker
 * An in-memory DockerClient for lifecycle unit tests: containers "run" until `exit(id, code)` or
 * a kill, print a configured output, and every created resource is tracked until removed.
 */
import { PassThrough, Readable } from 'node:stream';
import type { ContainerSpec, DockerClient, Resource, ResourceKind } from '../docker/docker-client.js';

interface FakeContainer {
  spec: ContainerSpec;
  output: PassThrough;
  exited: Promise<number>;
  exit: (code: number) => void;
  running: boolean;
}

export class FakeDocker implements DockerClient {
  readonly resources = new Map<string, Resource>();
  readonly containers = new Map<string, FakeContainer>();
  readonly images = new Set<string>(['debian:bookworm-slim']);
  /** What each task container prints and its exit code, unless a test exits it by hand. */
  script: { output: string; exitCode?: number } = { output: '', exitCode: 0 };
  /** The address inspectContainer reports (tests point it at a loopback server). */
  ip = '127.0.0.1';
  private next = 0;

  async ping(): Promise<void> {}
  async inspectImage(name: string) {
    return this.images.has(name) ? { id: `sha256:${name}` } : undefined;
  }
  async pullImage(name: string): Promise<void> {
    throw new Error(`pull access denied for ${name}`);
  }
  async createNetwork(name: string, labels: Record<string, string>) {
    this.resources.set(name, { kind: 'network', id: name, labels });
    return { id: name, name, gateway: '172.30.0.1' };
  }
  async createVolume(name: string, labels: Record<string, string>): Promise<void> {
    this.resources.set(name, { kind: 'volume', id: name, labels });
  }
  async createContainer(spec: ContainerSpec): Promise<string> {
    const id = `c${++this.next}`;
    let exit = (_code: number): void => undefined;
    const exited = new Promise<number>((resolve) => (exit = resolve));
    const container: FakeContainer = { spec, output: new PassThrough(), exited, exit, running: false };
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
    c.running = true;
    c.output.write(this.script.output);
    if (this.script.exitCode !== undefined) c.exit(this.script.exitCode);
  }
  waitContainer(id: string): Promise<number> {
    return this.get(id).exited;
  }
  async followOutput(id: string): Promise<Readable> {
    return this.get(id).output;
  }
  async inspectContainer(id: string) {
    const c = this.get(id);
    return { ip: this.ip, running: c.running, exitCode: c.running ? 0 : (this.script.exitCode ?? 137) };
  }
  async killContainer(id: string): Promise<void> {
    this.get(id).exit(137);
  }
  async getArchive(): Promise<Readable> {
    return Readable.from([]);
  }
  async listByLabel(kind: ResourceKind, labels: string[]): Promise<Resource[]> {
    return [...this.resources.values()].filter(
      (r) => r.kind === kind && labels.every((l) => { const [k = '', v] = l.split('='); return v === undefined ? k in r.labels : r.labels[k] === v; }),
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
