/**
 * @module e2e/local-registry
 * A real container registry on loopback for tests: Debian's `docker-registry` (the CNCF
 * distribution registry) started as a child process on 127.0.0.1:<free port> with a temporary
 * storage directory and a config written at start. Docker allows plain HTTP to registries in
 * 127.0.0.0/8 without daemon configuration (`InsecureRegistryCIDRs`), which `startLocalRegistry`
 * checks. Also: push an image to it with dockerode, following the stream to its end.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { docker } from './docker.js';

export const REGISTRY_BINARY = '/usr/bin/docker-registry';

export interface LocalRegistry {
  /** `127.0.0.1:<port>`: the prefix of image names in this registry. */
  readonly host: string;
  /** Kills the process and removes its storage and config. */
  stop(): Promise<void>;
}

/**
 * Makes sure the registry binary is there: installs Debian's `docker-registry` when we are root on
 * Debian (its service is not started: no systemd, and policy-rc.d decides for init scripts), and
 * throws one clear line otherwise.
 */
export function ensureRegistryBinary(): string {
  if (existsSync(REGISTRY_BINARY)) return REGISTRY_BINARY;
  const fix = 'install it with `apt-get install -y docker-registry` (Debian) as root, then rerun';
  if (process.getuid?.() !== 0 || !existsSync('/etc/debian_version')) {
    throw new Error(
      `${REGISTRY_BINARY} is missing and this process cannot install it (not root on Debian): ${fix}`,
    );
  }
  const apt = (...args: string[]) =>
    spawnSync('apt-get', ['-o', 'DPkg::Lock::Timeout=120', ...args], {
      encoding: 'utf8',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  let r = apt('install', '-y', '--no-install-recommends', 'docker-registry');
  if (r.status !== 0) {
    // Most often an empty or stale package list: refresh it once and try again.
    const update = apt('update');
    if (update.status !== 0) throw new Error(`apt-get update failed (${lastLine(update.stderr)}); ${fix}`);
    r = apt('install', '-y', '--no-install-recommends', 'docker-registry');
  }
  if (r.status !== 0 || !existsSync(REGISTRY_BINARY))
    throw new Error(`apt-get install docker-registry failed (${lastLine(r.stderr)}); ${fix}`);
  return REGISTRY_BINARY;
}

/**
 * Starts a registry on 127.0.0.1:<free port> and resolves once `/v2/` answers. `htpasswd` (lines
 * `user:<bcrypt hash>`) makes it a private one: every request needs basic auth.
 */
export async function startLocalRegistry(opts: { htpasswd?: string } = {}): Promise<LocalRegistry> {
  const binary = ensureRegistryBinary();
  await checkLoopbackIsInsecureAllowed();
  const dir = mkdtempSync(join(tmpdir(), 'e2e-registry-'));
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const configFile = join(dir, 'config.yml');
  // JSON is YAML: the registry reads this as its config file.
  const config = {
    version: 0.1,
    log: { level: 'warn', accesslog: { disabled: true } },
    storage: { filesystem: { rootdirectory: join(dir, 'storage') }, delete: { enabled: true } },
    http: { addr: host },
    ...(opts.htpasswd ? { auth: { htpasswd: { realm: 'e2e', path: join(dir, 'htpasswd') } } } : {}),
  };
  if (opts.htpasswd) writeFileSync(join(dir, 'htpasswd'), opts.htpasswd);
  writeFileSync(configFile, JSON.stringify(config));
  const child = spawn(binary, ['serve', configFile], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitUntilReady(child, host, () => stderr);
  } catch (err) {
    await stop();
    throw err;
  }
  return { host, stop };
}

/**
 * Pushes the local image `name` (`<host>/<repo>:<tag>`) to its registry and resolves with the
 * manifest digest the registry gave it. Any error event in the push stream rejects.
 */
export async function pushImage(
  name: string,
  auth: { username?: string; password?: string; serveraddress?: string } = {},
): Promise<string> {
  const stream = await docker.getImage(name).push({ authconfig: auth });
  let digest: string | undefined;
  await new Promise<void>((resolve, reject) => {
    docker.modem.followProgress(
      stream,
      (err: Error | null) => (err ? reject(err) : resolve()),
      (event: { error?: string; aux?: { Digest?: string } }) => {
        if (event.error) reject(new Error(`pushing ${name} failed: ${event.error}`));
        if (event.aux?.Digest) digest = event.aux.Digest;
      },
    );
  });
  if (!digest) throw new Error(`pushing ${name} ended without a digest from the registry`);
  return digest;
}

async function checkLoopbackIsInsecureAllowed(): Promise<void> {
  const info = (await docker.info()) as { RegistryConfig?: { InsecureRegistryCIDRs?: string[] } };
  const cidrs = info.RegistryConfig?.InsecureRegistryCIDRs ?? [];
  if (!cidrs.includes('127.0.0.0/8')) {
    throw new Error(
      `the Docker engine does not allow plain-HTTP registries on 127.0.0.0/8 (insecure registry CIDRs: ${cidrs.join(', ') || 'none'}); add "127.0.0.0/8" to "insecure-registries" in /etc/docker/daemon.json`,
    );
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function waitUntilReady(child: ChildProcess, host: string, stderr: () => string): Promise<void> {
  const until = Date.now() + 20_000;
  while (Date.now() < until) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(
        `docker-registry exited (${child.exitCode ?? child.signalCode}) before answering on ${host}: ${lastLine(stderr())}`,
      );
    }
    const ok = await fetch(`http://${host}/v2/`).then(
      (r) => r.ok || r.status === 401, // 401: a private registry, up
      () => false,
    );
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`docker-registry did not answer on http://${host}/v2/ within 20 s: ${lastLine(stderr())}`);
}

function lastLine(text: string): string {
  return text.trim().split('\n').pop() ?? '';
}
