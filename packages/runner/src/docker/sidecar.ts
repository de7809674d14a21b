/**
 * @module docker/sidecar
 * Starts a feature's service container on the task network under an alias, waits (on the run's
 * clock) until it answers, and copies its output into the live log prefixed with `[alias]`. If it
 * never becomes ready the error carries its last log lines. Stopping is graceful (SIGTERM, then
 * SIGKILL after a short grace) so that the sidecar's last words reach the live log.
 *
 * @example
 * const proxy = await startSidecar(run, { image, alias: 'taskcluster', env, readyPort: 80, readyPath: '/__health', timeoutMs: 30_000 });
 * // ... later, in the feature's stop():
 * await proxy.stop();
 */
import { get as httpGet } from 'node:http';
import { connect } from 'node:net';
import type { Readable } from 'node:stream';
import { failure, resourceUnavailable } from '../errors.js';
import type { TaskRun } from '../run-context.js';

export interface SidecarOptions {
  image: string;
  /** Network alias: the task reaches the sidecar at http://<alias>/. */
  alias: string;
  env?: Record<string, string>;
  cmd?: string[];
  capAdd?: string[];
  /** Capabilities the sidecar does without (e.g. ALL, with capAdd for what it needs). */
  capDrop?: string[];
  /** Secrets as files in SECRETS_DIR (not in its environment, where `docker inspect` shows them). */
  secretFiles?: Record<string, string>;
  devices?: string[];
  binds?: string[];
  extraHosts?: string[];
  /** Port probed inside the sidecar. */
  readyPort: number;
  /** With a path: HTTP GET until `isReady(status)` (default 2xx); without: a TCP connect. */
  readyPath?: string;
  isReady?: (status: number) => boolean;
  timeoutMs: number;
  /** Delay between probes (default 100 ms). */
  intervalMs?: number;
  /** Seconds between SIGTERM and SIGKILL on stop (default: worker config sidecarStopGraceSeconds). */
  stopGraceSeconds?: number;
}

export interface Sidecar extends AsyncDisposable {
  readonly alias: string;
  readonly containerId: string;
  /** The sidecar's address on the task network. */
  readonly ip: string;
  /**
   * `alias:ip`, for the task container's /etc/hosts (ExtraHosts). The alias also resolves through
   * the network's DNS; the hosts entry makes the name work even when the engine's embedded DNS is
   * slow or loaded, as docker-worker's legacy links did.
   */
  readonly hostsEntry: string;
  /** Recent output lines (at most 50). */
  lastLines(): string[];
  /** Stops the container gracefully, copies the rest of its output into the live log, removes it. Idempotent. */
  stop(): Promise<void>;
}

const KEEP_LINES = 50;

/** A sidecar that has an address but may not answer yet (`launchSidecar`). */
export interface LaunchedSidecar extends Sidecar {
  /**
   * Settles once it answers on its port: resolves, or rejects with a `failed` TaskError carrying
   * its last log lines (it is stopped by then). Never an unhandled rejection.
   */
  readonly ready: Promise<void>;
}

/** Starts the sidecar and waits until it answers (`launchSidecar`, then its `ready`). */
export async function startSidecar(run: TaskRun, opts: SidecarOptions): Promise<Sidecar> {
  const sidecar = await launchSidecar(run, opts);
  await sidecar.ready;
  return sidecar;
}

/**
 * Starts the sidecar and returns as soon as it has its address on the task network (which the
 * task container's hosts entry needs), leaving the wait until it answers to `ready`: the worker
 * creates the task container meanwhile and starts it once every sidecar is ready.
 */
export async function launchSidecar(run: TaskRun, opts: SidecarOptions): Promise<LaunchedSidecar> {
  const { docker, liveLog } = run;
  if (!(await docker.inspectImage(opts.image))) {
    throw resourceUnavailable(
      `the ${opts.alias} sidecar image ${opts.image} is not on this worker; build it (npm run images) or set its name in the worker config`,
    );
  }
  const network = await run.network();
  const containerId = await docker.createContainer({
    image: opts.image,
    cmd: opts.cmd,
    env: opts.env ?? {},
    labels: run.labels('sidecar', { 'org.docker-worker.alias': opts.alias }),
    network: network.name,
    aliases: [opts.alias],
    binds: opts.binds,
    devices: opts.devices,
    capAdd: opts.capAdd,
    capDrop: opts.capDrop,
    securityOpt: ['no-new-privileges'],
    ...(opts.secretFiles ? { secretFiles: opts.secretFiles } : {}),
    extraHosts: opts.extraHosts,
  });
  const output = await docker.attachOutput(containerId);
  const lines: string[] = [];
  const prefix = `[${opts.alias}] `;
  const copied = copyOutput(output, async (chunk) => {
    for (const line of chunk.toString().split('\n').filter(Boolean)) {
      lines.push(line);
      if (lines.length > KEEP_LINES) lines.shift();
    }
    await liveLog.output(chunk, opts.alias, prefix);
  });
  try {
    await docker.startContainer(containerId);
  } catch (err) {
    output.destroy();
    await docker.remove({ kind: 'container', id: containerId }).catch(() => undefined);
    throw err;
  }
  const graceSeconds = opts.stopGraceSeconds ?? run.config.sidecarStopGraceSeconds;
  // A stop ends the wait for readiness (a later feature failed, the run was aborted).
  const stopping = new AbortController();
  const waitSignal = AbortSignal.any([run.signal, stopping.signal]);
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopped ??= (async () => {
      stopping.abort();
      try {
        await docker.stopContainer(containerId, graceSeconds);
        await copied; // it has stopped, so its output ends: keep its last words
      } finally {
        await docker.remove({ kind: 'container', id: containerId });
        await copied;
        await liveLog.flush(opts.alias, prefix);
      }
    })());
  /** Stops it, then turns a NotReady into a failure quoting its log (every line is copied by then). */
  const fail = async (err: unknown): Promise<never> => {
    await stop().catch((stopErr: unknown) =>
      run.log.warn({ err: stopErr, alias: opts.alias }, 'sidecar clean-up failed'),
    );
    if (!(err instanceof NotReady)) throw err;
    throw failure(
      `the ${opts.alias} sidecar (${opts.image}) ${err.message}; its last log lines:\n${lines.slice(-20).join('\n') || '(no output)'}`,
    );
  };
  const deadline = run.clock.now() + opts.timeoutMs;
  let ip: string;
  try {
    ip = await watch(run, containerId, network.name, opts, deadline, waitSignal, async (at) => at);
    await run.allowHostAccess(ip); // a sidecar may reach this host (the task may not)
  } catch (err) {
    return fail(err);
  }
  const answers = async (at: string): Promise<true | undefined> =>
    (await probe(at, opts)) ? true : undefined;
  const ready = watch(run, containerId, network.name, opts, deadline, waitSignal, answers).then(
    () => run.log.info({ alias: opts.alias, containerId, ip }, 'sidecar ready'),
    fail,
  );
  ready.catch(() => undefined); // awaited by whoever needs it; never unhandled meanwhile
  return {
    alias: opts.alias,
    containerId,
    ip,
    hostsEntry: `${opts.alias}:${ip}`,
    ready,
    lastLines: () => [...lines],
    stop,
    [Symbol.asyncDispose]: stop,
  };
}

/** Why a sidecar never became ready; turned into a TaskError with its log lines once it is stopped. */
class NotReady extends Error {}

/**
 * Looks at the sidecar until `found(ip)` gives a value, failing at once if it has exited: its
 * address (normally at the first look), then whether it answers.
 */
async function watch<T>(
  run: TaskRun,
  id: string,
  network: string,
  opts: SidecarOptions,
  deadline: number,
  signal: AbortSignal,
  found: (ip: string) => Promise<T | undefined>,
): Promise<T> {
  for (;;) {
    const state = await run.docker.inspectContainer(id, network);
    if (!state.running) throw new NotReady(`exited with status ${state.exitCode} before it was ready`);
    const value = state.ip ? await found(state.ip) : undefined;
    if (value !== undefined) return value;
    if (run.clock.now() >= deadline)
      throw new NotReady(
        `did not answer on port ${opts.readyPort} within ${Math.round(opts.timeoutMs / 1000)}s`,
      );
    await run.clock.sleep(opts.intervalMs ?? 100, signal);
  }
}

async function probe(ip: string, opts: SidecarOptions): Promise<boolean> {
  if (opts.readyPath === undefined) {
    return new Promise((resolve) => {
      const socket = connect({ host: ip, port: opts.readyPort, timeout: 1000 });
      const done = (ok: boolean): void => {
        socket.destroy();
        resolve(ok);
      };
      socket.once('connect', () => done(true));
      socket.once('error', () => done(false));
      socket.once('timeout', () => done(false));
    });
  }
  // node:http rather than fetch: fetch would load Node's bundled undici (~40 ms of CPU) while the
  // sidecar itself starts on the same cores.
  const path = opts.readyPath;
  const status = await new Promise<number | undefined>((resolve) => {
    const req = httpGet({ host: ip, port: opts.readyPort, path, agent: false, timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.once('timeout', () => req.destroy());
    req.once('error', () => resolve(undefined));
  });
  return status !== undefined && (opts.isReady ?? ((s) => s >= 200 && s < 300))(status);
}

async function copyOutput(stream: Readable, onChunk: (chunk: Buffer) => Promise<void>): Promise<void> {
  try {
    for await (const chunk of stream) await onChunk(chunk as Buffer);
  } catch {
    // the container went away: its output ends here
  }
}
