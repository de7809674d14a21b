/**
 * @module e2e/docker
 * Test-side Docker helpers: one dockerode client, a session label on everything a test
 * creates, and removal by label (containers first, then networks, then volumes).
 */
import { iptablesFirewall } from '@docker-worker/runner';
import Docker from 'dockerode';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';

export const docker = new Docker();

/** Label key on everything the e2e suites create. */
export const TEST_LABEL = 'org.docker-worker.test-session';
/** The pid of the test process that created it: the start-up sweep only removes what dead runs left. */
export const TEST_PID_LABEL = 'org.docker-worker.test-pid';

/** A fresh session id per test file run; everything created is labelled with it. */
export function newSession(): string {
  return `t${randomUUID().slice(0, 8)}`;
}

export function labels(session: string): Record<string, string> {
  return { [TEST_LABEL]: session, [TEST_PID_LABEL]: String(process.pid) };
}

/** Removes every container, network and volume carrying the session label. */
export async function removeByLabel(session: string): Promise<void> {
  await removeWhere(`${TEST_LABEL}=${session}`, () => true);
}

/**
 * Removes what test processes that are no longer alive left behind (a crashed or killed run).
 * Resources of test runs still going on (another vitest run on this machine) are left alone.
 */
export async function removeLeftovers(): Promise<void> {
  await removeWhere(TEST_LABEL, (l) => !alive(Number(l[TEST_PID_LABEL])));
}

/**
 * Removes the host firewall's fence of the engine's default bridge (comment
 * `docker-worker:bridge`), which a worker adds when it runs tasks there (dockerd --icc=false) and
 * keeps, docker0 never going away: the suite leaves the host's firewall as it found it.
 */
export async function removeDefaultBridgeFence(): Promise<void> {
  if (process.getuid?.() === 0) await iptablesFirewall().removeNetwork('bridge');
}

function alive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

type Labels = Record<string, string> | undefined;

async function removeWhere(label: string, keep: (labels: Record<string, string>) => boolean): Promise<void> {
  const filters = JSON.stringify({ label: [label] });
  const wanted = (l: Labels): boolean => keep(l ?? {});
  const containers = (await docker.listContainers({ all: true, filters })).filter((c) => wanted(c.Labels));
  await Promise.all(
    containers.map((c) => docker.getContainer(c.Id).remove({ force: true, v: true }).catch(ignoreGone)),
  );
  const networks = (await docker.listNetworks({ filters })).filter((n) => wanted(n.Labels));
  await Promise.all(networks.map((n) => docker.getNetwork(n.Id).remove().catch(ignoreGone)));
  const { Volumes } = await docker.listVolumes({ filters });
  const volumes = (Volumes ?? []).filter((v) => wanted(v.Labels as Labels));
  await Promise.all(volumes.map((v) => docker.getVolume(v.Name).remove({ force: true }).catch(ignoreGone)));
}

function ignoreGone(err: unknown): void {
  const code = (err as { statusCode?: number }).statusCode;
  if (code !== 404 && code !== 409) throw err;
}

/** Runs a command in a fresh container and returns its exit code and output. */
export async function runToEnd(opts: {
  image: string;
  cmd: string[];
  session: string;
  network?: string;
  env?: string[];
}): Promise<{ exitCode: number; output: string }> {
  const container = await docker.createContainer({
    Image: opts.image,
    Cmd: opts.cmd,
    Env: opts.env,
    Labels: labels(opts.session),
    HostConfig: { NetworkMode: opts.network ?? 'bridge' },
  });
  try {
    await container.start();
    const { StatusCode } = (await container.wait()) as { StatusCode: number };
    const logs = await container.logs({ stdout: true, stderr: true, follow: false });
    return { exitCode: StatusCode, output: demux(logs as unknown as Buffer) };
  } finally {
    await container.remove({ force: true }).catch(ignoreGone);
  }
}

/** Docker multiplexes stdout/stderr in 8-byte framed chunks when there is no TTY. */
export function demux(buf: Buffer): string {
  const parts: Buffer[] = [];
  let i = 0;
  while (i + 8 <= buf.length) {
    const size = buf.readUInt32BE(i + 4);
    parts.push(buf.subarray(i + 8, i + 8 + size));
    i += 8 + size;
  }
  return Buffer.concat(parts).toString('utf8');
}

/**
 * `docker build`, serialised with every other image build on this machine (the same lock as
 * tools/image.mjs: 2 cores for everyone). The Dockerfile comes from `stdin` (no context) or
 * `dockerfile` within `context`. Throws with the engine's output when the build fails.
 */
export function buildImage(opts: {
  tag: string;
  labels?: Record<string, string>;
  context?: string;
  dockerfile?: string;
  stdin?: string;
  cwd?: string;
}): void {
  const args = ['/tmp/docker-worker-image-build.lock', 'docker', 'build', '-q', '--force-rm'];
  for (const [k, v] of Object.entries(opts.labels ?? {})) args.push('--label', `${k}=${v}`);
  if (opts.dockerfile) args.push('-f', opts.dockerfile);
  args.push('-t', opts.tag, opts.stdin !== undefined ? '-' : (opts.context ?? '.'));
  const r = spawnSync('flock', args, { cwd: opts.cwd, input: opts.stdin, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`docker build of ${opts.tag} failed: ${r.stderr.trim()}`);
}
