/**
 * @module e2e/faults/second-engine
 * A Docker engine of the test's own, so that a test may stop and start it (R3) or fill its disk
 * (R12) without touching the shared one: `dockerd` with its own data root (on a tmpfs of a size
 * the test chooses), exec root (so its own containerd), pidfile and unix socket, in a network
 * namespace of its own (`ip netns add`; dockerd entered with `nsenter --net`, keeping the host's
 * mounts and cgroups). Its docker0, its networks' bridges and addresses live in that namespace
 * only: a dockerd deletes a link named docker0 at start (with `--bridge=none`, or on a restart with
 * an address pool set), which on the host's namespace was the shared engine's bridge. No iptables.
 * Images are copied from the main engine (`docker save | docker load`). `close()` stops it and
 * removes everything it had, the namespace included.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import Docker from 'dockerode';
import { until } from './recorder.js';

export class SecondEngine {
  readonly dir = mkdtempSync('/tmp/dw-fault-engine-');
  readonly dataRoot = join(this.dir, 'data');
  readonly socket = join(this.dir, 'docker.sock');
  readonly host = `unix://${this.socket}`;
  readonly docker = new Docker({ socketPath: this.socket });
  readonly netns = `dw-fault-${this.dir.slice(-6)}`;
  private daemon: ChildProcess | undefined;
  private log = '';

  private constructor(private readonly sizeMiB: number) {}

  /** Starts an engine whose data root is a tmpfs of `sizeMiB`, with `images` from the main engine. */
  static async start(opts: { sizeMiB: number; images: string[] }): Promise<SecondEngine> {
    const e = new SecondEngine(opts.sizeMiB);
    mkdirSync(e.dataRoot);
    run('mount', ['-t', 'tmpfs', '-o', `size=${opts.sizeMiB}m`, 'tmpfs', e.dataRoot]);
    run('ip', ['netns', 'add', e.netns]);
    run('ip', ['netns', 'exec', e.netns, 'ip', 'link', 'set', 'lo', 'up']);
    await e.up();
    for (const image of opts.images) run('sh', ['-c', `docker save ${image} | docker -H ${e.host} load -q`]);
    return e;
  }

  /** Starts the daemon; resolves once it answers. */
  async up(): Promise<void> {
    this.daemon = spawn(
      'nsenter',
      [
        `--net=/var/run/netns/${this.netns}`,
        'dockerd',
        '--data-root',
        this.dataRoot,
        '--exec-root',
        join(this.dir, 'exec'),
        '--pidfile',
        join(this.dir, 'docker.pid'),
        '-H',
        this.host,
        '--iptables=false',
        '--ip-masq=false',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    this.daemon.stderr?.on('data', (c: Buffer) => (this.log = (this.log + c.toString()).slice(-20_000)));
    const daemon = this.daemon;
    await until(async () => {
      if (daemon.exitCode !== null) throw new Error(`the test's dockerd exited: ${this.log.slice(-2000)}`);
      return this.docker.ping().then(
        () => true,
        () => false,
      );
    }, 100);
  }

  /**
   * Stops the daemon: SIGTERM (as `systemctl stop docker`: it stops its containers first) or
   * SIGKILL (a crash: the API goes away at once; the restart kills what still ran).
   */
  async down(signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> {
    const d = this.daemon;
    if (!d || d.exitCode !== null || d.signalCode !== null) return;
    d.kill(signal);
    await once(d, 'exit');
  }

  async close(): Promise<void> {
    if (this.daemon && this.daemon.exitCode === null && this.daemon.signalCode === null) {
      const all = await this.docker.listContainers({ all: true }).catch(() => []);
      await Promise.all(
        all.map((c) =>
          this.docker
            .getContainer(c.Id)
            .remove({ force: true })
            .catch(() => undefined),
        ),
      );
    }
    await this.down();
    // Whatever outlived the daemon (a shim after a crash) and every mount under the directory.
    for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
      const cmd = (() => {
        try {
          return readFileSync(`/proc/${pid}/cmdline`, 'utf8');
        } catch {
          return '';
        }
      })();
      if (cmd.includes(this.dir)) spawnSync('kill', ['-9', pid]);
    }
    const mounts = readFileSync('/proc/mounts', 'utf8')
      .split('\n')
      .map((l) => l.split(' ')[1] ?? '')
      .filter((m) => m.startsWith(this.dir))
      .sort()
      .reverse();
    for (const m of mounts) spawnSync('umount', ['-l', m]);
    spawnSync('ip', ['netns', 'del', this.netns]);
    rmSync(this.dir, { recursive: true, force: true });
  }

  get size(): number {
    return this.sizeMiB;
  }
}

/** Runs `start` with DOCKER_HOST set (the worker process inherits this process's environment). */
export async function withDockerHost<T>(host: string, start: () => Promise<T>): Promise<T> {
  const before = process.env.DOCKER_HOST;
  process.env.DOCKER_HOST = host;
  try {
    return await start();
  } finally {
    if (before === undefined) delete process.env.DOCKER_HOST;
    else process.env.DOCKER_HOST = before;
  }
}

function run(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr.trim()}`);
}
