/**
 * @module docker/docker-client
 * The ONLY module that imports dockerode. `DockerClient` speaks in the runner's own words; no
 * dockerode type crosses this line. Failures come out as `DockerError { statusCode, operation }`.
 */
import Docker from 'dockerode';
import { Agent as HttpAgent, type AgentOptions as HttpAgentOptions } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { PassThrough, type Readable } from 'node:stream';
import { inspect } from 'node:util';
import { DemuxStream } from './demux.js';
import { createImageEngine, type ImageEngine } from './image-engine.js';

export interface ContainerSpec {
  name?: string;
  image: string;
  cmd?: string[];
  env: Record<string, string>;
  labels: Record<string, string>;
  network: string;
  aliases?: string[];
  binds?: string[];
  devices?: string[];
  capAdd?: string[];
  privileged?: boolean;
  extraHosts?: string[];
  capDrop?: string[];
  /** `no-new-privileges` and the like (`HostConfig.SecurityOpt`). */
  securityOpt?: string[];
  /** Most processes the container may have (fork bombs stop there); 0 or absent = no limit. */
  pidsLimit?: number;
  /** Memory limit in bytes; 0 or absent = none. */
  memoryBytes?: number;
  /** /dev/shm size in bytes; 0 or absent = Docker's default. */
  shmSize?: number;
  /** Cores the container may use (`HostConfig.CpusetCpus`, e.g. "0"). */
  cpusetCpus?: string;
  /** Run with a TTY (output is then one raw stream, not multiplexed). */
  tty?: boolean;
  /**
   * Files (name → content) the container finds in `SECRETS_DIR`, an anonymous volume removed with
   * the container: secrets that must not be in its environment, where `docker inspect` shows them.
   */
  secretFiles?: Record<string, string>;
}

/** Where a container finds its `secretFiles`. */
export const SECRETS_DIR = '/run/docker-worker-secrets';

export interface ImageInfo {
  id: string;
  digest?: string;
}

export interface NetworkInfo {
  id: string;
  name: string;
  gateway?: string;
  /** The host's interface of the network (`br-<id prefix>`), for host firewall rules. */
  bridge?: string;
  /** Whether containers on it may talk to each other (`com.docker.network.bridge.enable_icc`). */
  icc?: boolean;
}

export type ResourceKind = 'container' | 'network' | 'volume';
export interface Resource {
  kind: ResourceKind;
  id: string;
  labels: Record<string, string>;
  /** When the engine made it (volumes: `CreatedAt`), when it says. */
  created?: string;
}

export interface DockerClient {
  ping(): Promise<void>;
  /** The engine's data root (`DockerRootDir`), where images, containers and volumes live. */
  dataRoot(): Promise<string>;
  inspectImage(name: string): Promise<ImageInfo | undefined>;
  /** A bridge network; `icc: false` keeps its containers from talking to each other. */
  createNetwork(name: string, labels: Record<string, string>, opts?: { icc?: boolean }): Promise<NetworkInfo>;
  /** The network of that name or id, or undefined when there is none. */
  inspectNetwork(name: string): Promise<NetworkInfo | undefined>;
  createVolume(name: string, labels: Record<string, string>): Promise<void>;
  createContainer(spec: ContainerSpec): Promise<string>;
  startContainer(id: string): Promise<void>;
  /** Resolves with the exit code once the container stops. */
  waitContainer(id: string): Promise<number>;
  /**
   * stdout+stderr (demultiplexed into one stream) of a created container until it stops. Call it
   * BEFORE `startContainer`: attaching gets every byte, including a last line without a newline,
   * which following the logs loses when the container exits (json-file driver).
   */
  attachOutput(id: string, opts?: { tty?: boolean }): Promise<Readable>;
  /** The container's address on `network`, and whether it still runs. */
  inspectContainer(
    id: string,
    network: string,
  ): Promise<{ ip?: string; running: boolean; exitCode: number; oomKilled: boolean; image?: string }>;
  /** Graceful stop: SIGTERM, then SIGKILL after `graceSeconds`. Already stopped (304) or gone (404) is fine. */
  stopContainer(id: string, graceSeconds: number): Promise<void>;
  killContainer(id: string): Promise<void>;
  /** A tar stream of `path` inside the (possibly stopped) container. 404 when absent. */
  getArchive(id: string, path: string): Promise<Readable>;
  listByLabel(kind: ResourceKind, labels: string[]): Promise<Resource[]>;
  remove(resource: Pick<Resource, 'kind' | 'id'>): Promise<void>;
  /** `docker exec` with a TTY in a running container (the interactive shell). */
  exec?(id: string, opts: { cmd: string[]; env?: string[] }): Promise<ExecSession>;
  /** Image pull/load/tag/list/remove for the image feature and the image GC. */
  readonly imageEngine: ImageEngine;
}

/** A running exec: one duplex TTY stream (stdin in, output out), resize, and its exit code. */
export interface ExecSession {
  stream: NodeJS.ReadWriteStream;
  resize(cols: number, rows: number): Promise<void>;
  /** Once the stream has ended. */
  exitCode(): Promise<number>;
}

export class DockerError extends Error {
  override readonly name = 'DockerError';
  constructor(
    readonly operation: string,
    readonly statusCode: number | undefined,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

function wrap(operation: string, err: unknown): DockerError {
  const e = err as { statusCode?: number; json?: { message?: string }; message?: string };
  const reason = e.json?.message ?? e.message ?? String(err);
  return new DockerError(operation, e.statusCode, reason.trim(), { cause: err });
}

async function call<T>(operation: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw wrap(operation, err);
  }
}

const gone = (err: unknown): boolean => {
  const code = (err as DockerError).statusCode;
  return code === 404 || code === 409;
};

/**
 * docker-modem formats each request's options, agent included, with util.inspect (showHidden,
 * depth: null) for its debug line, on or off: walking an agent's sockets, parsers and functions
 * cost milliseconds per request. An engine agent shows itself as one word instead.
 */
class EngineAgent extends HttpAgent {
  [inspect.custom](): string {
    return 'EngineAgent';
  }
}
class EngineTlsAgent extends HttpsAgent {
  [inspect.custom](): string {
    return 'EngineTlsAgent';
  }
}

/**
 * An agent for the engine's unix socket or plain-HTTP port. `servername: ''` (a TLS name, unused
 * here) keeps Node from working one out of the host for every request with net.isIP, whose IPv6
 * expression costs 5-8 ms the first time: at every CLI start. Kept-alive sockets: as Node's own
 * global agent (lifo, free sockets closed after 5 s).
 */
const plainAgent = (keepAlive: boolean): HttpAgent =>
  new EngineAgent({
    keepAlive,
    ...(keepAlive ? { scheduling: 'lifo' as const, timeout: 5000 } : {}),
    servername: '',
  } as HttpAgentOptions);

/** The engine of DOCKER_HOST (or the default socket), through `plainAgent` unless it is TLS. */
export function defaultEngine(): Docker {
  const docker = new Docker();
  const modem = docker.modem as unknown as { protocol?: string; agent?: HttpAgent };
  if (modem.protocol !== 'https' && modem.protocol !== 'ssh') modem.agent = plainAgent(true);
  return docker;
}

/** The same engine through an agent that opens a new connection for every request. */
function freshConnection(docker: Docker): Docker {
  const { socketPath, host, port, protocol, ca, cert, key, version } =
    docker.modem as unknown as Docker.DockerOptions;
  const agent =
    protocol === 'https' ? new EngineTlsAgent({ keepAlive: false, ca, cert, key }) : plainAgent(false);
  return new Docker({
    socketPath,
    host,
    port,
    protocol,
    ca,
    cert,
    key,
    version,
    agent,
  } as Docker.DockerOptions);
}

export function createDockerClient(docker: Docker = defaultEngine()): DockerClient {
  let pinger: Docker | undefined;
  let dataRoot: Promise<string> | undefined;
  return {
    imageEngine: createImageEngine(docker),
    // On a connection of its own: an engine shutting down has closed its socket but still answers
    // on the connections kept alive (Node's agent reuses them), so a reused one would say it is up.
    ping: () => call('ping', async () => void (await (pinger ??= freshConnection(docker)).ping())),

    // `docker info` costs the engine 12-30 ms (it counts containers, images, plugins...), and the
    // claim loop's disk check asks before every claim: the data root is asked once per client
    // (an engine restarted with another --data-root is seen by the next worker process).
    dataRoot: () =>
      (dataRoot ??= call(
        'info',
        async () => ((await docker.info()) as { DockerRootDir: string }).DockerRootDir,
      ).catch((err: unknown) => {
        dataRoot = undefined;
        throw err;
      })),
    inspectImage: (name) =>
      call('inspect image', async () => {
        try {
          const info = await docker.getImage(name).inspect();
          return { id: info.Id, digest: info.RepoDigests?.[0] };
        } catch (err) {
          if ((err as { statusCode?: number }).statusCode === 404) return undefined;
          throw err;
        }
      }),

    createNetwork: (name, labels, opts) =>
      call('create network', async () => {
        const net = await docker.createNetwork({
          Name: name,
          Labels: labels,
          CheckDuplicate: true,
          ...(opts?.icc === false ? { Options: { [ICC]: 'false' } } : {}),
        });
        return networkInfo(await net.inspect());
      }),

    inspectNetwork: (name) =>
      call('inspect network', async () => {
        try {
          return networkInfo(await docker.getNetwork(name).inspect());
        } catch (err) {
          if ((err as { statusCode?: number }).statusCode === 404) return undefined;
          throw err;
        }
      }),

    createVolume: (name, labels) =>
      call('create volume', async () => void (await docker.createVolume({ Name: name, Labels: labels }))),

    createContainer: (spec) =>
      call('create container', async () => {
        const c: Docker.Container = await docker.createContainer({
          name: spec.name,
          Image: spec.image,
          Cmd: spec.cmd,
          Env: Object.entries(spec.env).map(([k, v]) => `${k}=${v}`),
          Labels: spec.labels,
          AttachStdout: true,
          AttachStderr: true,
          Tty: spec.tty === true,
          HostConfig: {
            NetworkMode: spec.network,
            Binds: spec.binds,
            Privileged: spec.privileged ?? false,
            CapAdd: spec.capAdd,
            CapDrop: spec.capDrop,
            SecurityOpt: spec.securityOpt,
            ...(spec.pidsLimit ? { PidsLimit: spec.pidsLimit } : {}),
            ...(spec.memoryBytes ? { Memory: spec.memoryBytes, MemorySwap: spec.memoryBytes } : {}),
            ...(spec.shmSize ? { ShmSize: spec.shmSize } : {}),
            ...(spec.cpusetCpus !== undefined ? { CpusetCpus: spec.cpusetCpus } : {}),
            ...(spec.secretFiles
              ? { Mounts: [{ Type: 'volume' as const, Source: '', Target: SECRETS_DIR }] }
              : {}),
            ExtraHosts: spec.extraHosts,
            Devices: (spec.devices ?? []).map((d) => {
              const [host = d, inside = host] = d.split(':');
              return { PathOnHost: host, PathInContainer: inside, CgroupPermissions: 'rwm' };
            }),
          },
          // The default bridge takes no aliases (the engine refuses any there, even none named).
          NetworkingConfig: {
            EndpointsConfig: { [spec.network]: spec.aliases?.length ? { Aliases: spec.aliases } : {} },
          },
        });
        if (spec.secretFiles) {
          try {
            await c.putArchive(await secretsTar(spec.secretFiles), { path: SECRETS_DIR });
          } catch (err) {
            await c.remove({ force: true, v: true }).catch(() => undefined);
            throw err;
          }
        }
        return c.id;
      }),

    startContainer: (id) => call('start container', async () => void (await docker.getContainer(id).start())),

    waitContainer: (id) =>
      call(
        'wait container',
        async () => ((await docker.getContainer(id).wait()) as { StatusCode: number }).StatusCode,
      ),

    attachOutput: (id, opts) =>
      call('attach container', async () => {
        const raw = (await docker
          .getContainer(id)
          .attach({ stream: true, stdout: true, stderr: true })) as unknown as Readable;
        // With a TTY the engine sends one raw stream; without, stdout and stderr multiplexed.
        // Piped, so a slow reader holds the engine back instead of filling the worker's memory.
        const out = opts?.tty ? new PassThrough() : new DemuxStream();
        raw.on('error', (err) => out.destroy(err));
        return raw.pipe(out);
      }),

    inspectContainer: (id, network) =>
      call('inspect container', async () => {
        const info = await docker.getContainer(id).inspect();
        const ip = info.NetworkSettings.Networks[network]?.IPAddress || undefined;
        return {
          ip,
          running: info.State.Running,
          exitCode: info.State.ExitCode,
          oomKilled: info.State.OOMKilled === true,
          image: info.Image,
        };
      }),

    stopContainer: (id, graceSeconds) =>
      call('stop container', async () => {
        await docker
          .getContainer(id)
          .stop({ t: graceSeconds })
          .catch((err: unknown) => {
            const code = (err as { statusCode?: number }).statusCode;
            if (code !== 304 && code !== 404) throw err;
          });
      }),

    killContainer: (id) =>
      call('kill container', async () => {
        await docker
          .getContainer(id)
          .kill()
          .catch((err) => {
            if (!gone(wrap('kill', err))) throw err;
          });
      }),

    getArchive: (id, path) =>
      call(
        'get archive',
        async () => (await docker.getContainer(id).getArchive({ path })) as unknown as Readable,
      ),

    listByLabel: (kind, labels) =>
      call(`list ${kind}s`, async () => {
        const filters = JSON.stringify({ label: labels });
        if (kind === 'container') {
          const list = await docker.listContainers({ all: true, filters });
          return list.map((c) => ({ kind, id: c.Id, labels: c.Labels ?? {} }));
        }
        if (kind === 'network') {
          const list = await docker.listNetworks({ filters });
          return list.map((n) => ({ kind, id: n.Id, labels: n.Labels ?? {} }));
        }
        const { Volumes } = await docker.listVolumes({ filters });
        return (Volumes ?? []).map((v) => {
          const created = (v as { CreatedAt?: string }).CreatedAt; // the engine sends it; the types lack it
          return { kind, id: v.Name, labels: v.Labels ?? {}, ...(created ? { created } : {}) };
        });
      }),

    remove: ({ kind, id }) =>
      call(`remove ${kind}`, async () => {
        const op =
          kind === 'container'
            ? docker.getContainer(id).remove({ force: true, v: true })
            : kind === 'network'
              ? docker.getNetwork(id).remove()
              : docker.getVolume(id).remove();
        await op.catch((err: unknown) => {
          if ((err as { statusCode?: number }).statusCode !== 404) throw err;
        });
      }),

    exec: (id, { cmd, env }) =>
      call('exec', async () => {
        const exec = await docker.getContainer(id).exec({
          Cmd: cmd,
          Env: env ?? [],
          Tty: true,
          AttachStdin: true,
          AttachStdout: true,
          AttachStderr: true,
        });
        const stream = await exec.start({ hijack: true, stdin: true, Tty: true });
        return {
          stream,
          resize: (w, h) => call('exec resize', async () => void (await exec.resize({ w, h }))),
          exitCode: () => call('exec inspect', async () => (await exec.inspect()).ExitCode ?? -1),
        };
      }),
  };
}

const ICC = 'com.docker.network.bridge.enable_icc';

function networkInfo(info: Docker.NetworkInspectInfo): NetworkInfo {
  const options = info.Options ?? {};
  return {
    id: info.Id,
    name: info.Name,
    gateway: info.IPAM?.Config?.[0]?.Gateway,
    bridge: options['com.docker.network.bridge.name'] ?? `br-${info.Id.slice(0, 12)}`,
    icc: options[ICC] !== 'false',
  };
}

/** A tar of `files` (mode 0400), to put into a created container's secrets volume. */
async function secretsTar(files: Record<string, string>): Promise<Buffer> {
  // Only runs with a sidecar need it. CommonJS: its default export is module.exports, in node and
  // in the bundled CLI alike (named exports are node's guess, absent from the bundle).
  const { default: tarStream } = await import('tar-stream');
  const tar = tarStream.pack();
  for (const [name, content] of Object.entries(files)) tar.entry({ name, mode: 0o400 }, content);
  tar.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of tar) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
