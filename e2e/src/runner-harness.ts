/**
 * @module e2e/runner-harness
 * Runs the built `docker-worker` CLI (packages/runner/dist/cli.js) on a task object, with a worker
 * config whose worker id and cache prefix are unique to the test session, and inspects what the
 * runner left in the engine (by its labels).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  buildConfig,
  createDockerClient,
  runLocalTask,
  systemClock,
  toTaskDefinition,
  type Credentials,
  type DockerClient,
  type LocalRunResult,
} from '@docker-worker/runner';
import { pino } from 'pino';
import { docker } from './docker.js';

export const CLI = fileURLToPath(new URL('../../packages/runner/dist/cli.js', import.meta.url));
const WORKER_LABEL = 'org.docker-worker.worker-id';

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  result: Record<string, unknown> & {
    artifacts: { name: string; path: string; contentType: string; expires: string }[];
    artifactErrors: { name: string; reason: string; message: string }[];
  };
  artifactsDir: string;
}

export class RunnerSession {
  readonly dir = mkdtempSync(join(tmpdir(), 'runner-e2e-'));
  readonly configFile = join(this.dir, 'worker.json');
  private n = 0;

  constructor(
    readonly workerId: string,
    config: Record<string, unknown> = {},
  ) {
    writeFileSync(
      this.configFile,
      JSON.stringify({
        workerId,
        cacheVolumePrefix: `${workerId}-cache-`,
        workDir: join(this.dir, 'work'),
        ...config,
      }),
    );
  }

  /** Starts the CLI on `task`; resolve `done` for its result. */
  start(
    task: object | string,
    opts: { env?: Record<string, string>; args?: string[]; taskId?: string } = {},
  ): { child: ChildProcess; done: Promise<CliResult>; taskId: string } {
    const i = ++this.n;
    const taskId = opts.taskId ?? `${this.workerId}-t${i}`;
    const taskFile = typeof task === 'string' ? task : join(this.dir, `task-${i}.json`);
    const resultFile = join(this.dir, `result-${i}.json`);
    const artifactsDir = join(this.dir, `artifacts-${i}`);
    if (typeof task !== 'string') writeFileSync(taskFile, JSON.stringify(task));
    const args = [
      CLI,
      'run',
      taskFile,
      '--task-id',
      taskId,
      '--config',
      this.configFile,
      '--artifacts-dir',
      artifactsDir,
      '--result-json',
      resultFile,
      ...(opts.args ?? []),
    ];
    const child = spawn(process.execPath, args, {
      env: { ...process.env, ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const done = new Promise<CliResult>((resolve) =>
      child.once('close', (code) => {
        const result = existsSync(resultFile)
          ? JSON.parse(readFileSync(resultFile, 'utf8'))
          : { artifacts: [], artifactErrors: [] };
        resolve({ code, stdout, stderr, result, artifactsDir });
      }),
    );
    return { child, done, taskId };
  }

  /** Runs a task object, or a task file (YAML or JSON) given by path. */
  run(
    task: object | string,
    opts: { env?: Record<string, string>; args?: string[]; taskId?: string } = {},
  ): Promise<CliResult> {
    return this.start(task, opts).done;
  }

  /** Containers and networks of this session's worker (caches are volumes and not counted). */
  async leftovers(taskId?: string): Promise<{ containers: number; networks: number }> {
    return workerLeftovers(this.workerId, taskId);
  }

  /** Removes everything this session's worker created, caches included. */
  removeAll(): Promise<void> {
    return removeWorkerResources(this.workerId);
  }

  async volumeExists(name: string): Promise<boolean> {
    return docker
      .getVolume(name)
      .inspect()
      .then(
        () => true,
        () => false,
      );
  }

  /**
   * Waits until the task's container is running: listens for the engine's `start` event of a
   * container with the task's labels, after checking for one that already runs.
   */
  async waitForTaskContainer(taskId: string, timeoutMs = 60_000): Promise<void> {
    const label = [`org.docker-worker.task-id=${taskId}`, 'org.docker-worker.role=task'];
    const events = (await docker.getEvents({
      filters: { type: ['container'], event: ['start'], label },
    })) as NodeJS.ReadableStream & { destroy(): void };
    let timer: NodeJS.Timeout | undefined;
    try {
      const started = new Promise<void>((resolve, reject) => {
        timer = setTimeout(
          () => reject(new Error(`task container of ${taskId} never ran within ${timeoutMs} ms`)),
          timeoutMs,
        );
        events.once('data', () => resolve());
        events.once('error', reject);
        events.once('end', () => reject(new Error('the engine closed its event stream')));
      });
      started.catch(() => undefined); // awaited below unless the container already runs
      const filters = JSON.stringify({ label, status: ['running'] });
      if ((await docker.listContainers({ filters })).length > 0) return;
      await started;
    } finally {
      clearTimeout(timer);
      events.destroy();
    }
  }
}

/**
 * Removes what runner e2e sessions that crashed left behind (their worker ids start with `prefix`):
 * containers and networks whose owner process is gone, and their cache volumes, except `keep`'s.
 */
export async function sweepStaleSessions(prefix: string, keep: string): Promise<void> {
  const filters = JSON.stringify({ label: ['org.docker-worker.managed=true'] });
  const stale = (labels: Record<string, string> | undefined): boolean => {
    const worker = labels?.[WORKER_LABEL] ?? '';
    if (!worker.startsWith(prefix) || worker === keep) return false;
    const pid = Number((labels?.['org.docker-worker.owner'] ?? '').split('/').pop());
    if (!Number.isInteger(pid) || pid <= 0) return true;
    try {
      process.kill(pid, 0);
      return false;
    } catch {
      return true;
    }
  };
  for (const c of await docker.listContainers({ all: true, filters }))
    if (stale(c.Labels))
      await docker
        .getContainer(c.Id)
        .remove({ force: true })
        .catch(() => undefined);
  for (const n of await docker.listNetworks({ filters }))
    if (stale(n.Labels))
      await docker
        .getNetwork(n.Id)
        .remove()
        .catch(() => undefined);
  const { Volumes } = await docker.listVolumes({ filters });
  for (const v of Volumes ?? [])
    if (stale(v.Labels ?? undefined))
      await docker
        .getVolume(v.Name)
        .remove({ force: true })
        .catch(() => undefined);
}

/**
 * How many containers and networks a worker id (and optionally one task of it) still has. The
 * worker's shared task network (role `shared-network`) outlives its runs, like its caches, and is
 * not counted.
 */
export async function workerLeftovers(
  workerId: string,
  taskId?: string,
): Promise<{ containers: number; networks: number }> {
  const label = [`${WORKER_LABEL}=${workerId}`, ...(taskId ? [`org.docker-worker.task-id=${taskId}`] : [])];
  const filters = JSON.stringify({ label });
  const containers = await docker.listContainers({ all: true, filters });
  const networks = (await docker.listNetworks({ filters })).filter(
    (n) => n.Labels?.['org.docker-worker.role'] !== 'shared-network',
  );
  return { containers: containers.length, networks: networks.length };
}

/** Removes every container, network and volume (caches included) labelled with a worker id. */
export async function removeWorkerResources(workerId: string): Promise<void> {
  const filters = JSON.stringify({ label: [`${WORKER_LABEL}=${workerId}`] });
  const ignore = (): undefined => undefined;
  for (const c of await docker.listContainers({ all: true, filters }))
    await docker.getContainer(c.Id).remove({ force: true }).catch(ignore);
  for (const n of await docker.listNetworks({ filters }))
    await docker.getNetwork(n.Id).remove().catch(ignore);
  const { Volumes } = await docker.listVolumes({ filters });
  for (const v of Volumes ?? []) await docker.getVolume(v.Name).remove({ force: true }).catch(ignore);
}

/**
 * Runs a task through the runner library (`runLocalTask`: real engine, real clock), with a worker
 * config made of `workerId`, `workDir` and `config`; returns the result and the whole live log.
 * `onLog` sees the log as it grows.
 */
export async function runInProcess(opts: {
  task: object;
  workerId: string;
  workDir: string;
  config?: Record<string, unknown>;
  docker?: DockerClient;
  credentials?: Credentials;
  onLog?: (log: string) => void;
}): Promise<LocalRunResult & { log: string }> {
  let log = '';
  const result = await runLocalTask({
    task: toTaskDefinition(opts.task, { now: Date.now() }),
    config: buildConfig({
      workerId: opts.workerId,
      workDir: opts.workDir,
      cacheVolumePrefix: `${opts.workerId}-cache-`,
      sidecarTimeoutMs: 60_000,
      ...opts.config,
    }),
    docker: opts.docker ?? createDockerClient(),
    clock: systemClock,
    log: pino({ level: 'silent' }),
    artifactsDir: join(opts.workDir, 'artifacts'),
    ...(opts.credentials ? { credentials: opts.credentials } : {}),
    liveLogSink: {
      write: (chunk) => {
        log += chunk;
        opts.onLog?.(log);
        return true;
      },
    },
  });
  return { ...result, log };
}

/** The `KEY <json>` lines a task script printed (`console.log(KEY + ' ' + JSON.stringify(v))`). */
export function printed(log: string, key: string): unknown[] {
  return log
    .split('\n')
    .filter((l) => l.startsWith(`${key} `))
    .map((l) => JSON.parse(l.slice(key.length + 1)) as unknown);
}
