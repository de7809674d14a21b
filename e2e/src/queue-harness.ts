/**
 * @module e2e/queue-harness
 * Queue mode end to end: a fake Taskcluster in the test process (listening on 0.0.0.0 so that
 * sidecars reach it through their network's gateway), tasks created with taskcluster-client, and
 * the built `docker-worker start` CLI as a child process with a worker config unique to the test.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeTaskcluster, type FakeTaskcluster } from '@docker-worker/fake-taskcluster';
import taskcluster from 'taskcluster-client';
import type { Json, Queue } from 'taskcluster-client';
import { docker } from './docker.js';
import { CLI, removeWorkerResources, workerLeftovers } from './runner-harness.js';

export const ADMIN = { clientId: 'admin', accessToken: 'admin-token-0123456789', scopes: ['*'] };

/** A free TCP port on this machine (the live log server's, known before the worker starts). */
export async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

export interface WorkerProcess {
  child: ChildProcess;
  /** The operator log so far (pino JSON lines). */
  stderr(): string;
  exited: Promise<number | null>;
}

export class QueueSession {
  readonly dir = mkdtempSync(join(tmpdir(), 'queue-e2e-'));
  readonly workerType: string;
  readonly taskQueueId: string;
  readonly workerGroup = 'e2e';
  readonly admin: Queue;
  private readonly workers: WorkerProcess[] = [];
  private n = 0;

  private constructor(
    readonly tc: FakeTaskcluster,
    readonly workerId: string,
  ) {
    this.workerType = workerId
      .toLowerCase()
      .replace(/[^a-z0-9-]/g, '-')
      .slice(0, 38)
      .replace(/-+$/, '');
    this.taskQueueId = `e2e-queue/${this.workerType}`;
    this.admin = new taskcluster.Queue({ rootUrl: tc.rootUrl, credentials: ADMIN });
    tc.store.addClient({
      clientId: `worker/${workerId}`,
      accessToken: 'worker-token-0123456789',
      scopes: [
        `queue:claim-work:${this.taskQueueId}`,
        `queue:worker-id:${this.workerGroup}/*`,
        `purge-cache:purge-requests::${this.taskQueueId}`,
        'auth:expand-scopes',
      ],
    });
  }

  static async start(workerId: string, opts: { claimTimeoutSeconds?: number } = {}): Promise<QueueSession> {
    const tc = await startFakeTaskcluster({
      clients: [ADMIN],
      host: '0.0.0.0',
      claimTimeoutSeconds: opts.claimTimeoutSeconds ?? 60,
      claimWorkWaitMs: 1000,
      sweepIntervalMs: 200,
    });
    return new QueueSession(tc, workerId);
  }

  /** Creates a task for this session's queue; returns its id. */
  async createTask(payload: Json, extra: Json = {}): Promise<string> {
    const taskId = taskcluster.slugid();
    const now = Date.now();
    await this.admin.createTask(taskId, {
      taskQueueId: this.taskQueueId,
      created: new Date(now).toJSON(),
      deadline: new Date(now + 3600_000).toJSON(),
      expires: new Date(now + 86_400_000).toJSON(),
      scopes: [],
      retries: 1,
      payload: { image: 'debian:bookworm-slim', maxRunTime: 120, ...payload },
      metadata: {
        name: 'e2e',
        description: 'queue mode',
        owner: 'e2e@example.com',
        source: 'https://example.com/e2e',
      },
      ...extra,
    });
    return taskId;
  }

  /** Starts `docker-worker start` with a config of this session's queue (plus `config`). */
  async startWorker(config: Record<string, unknown> = {}, args: string[] = []): Promise<WorkerProcess> {
    const file = join(this.dir, `worker-${++this.n}.json`);
    const port = await freePort();
    writeFileSync(
      file,
      JSON.stringify({
        taskQueueId: this.taskQueueId,
        workerGroup: this.workerGroup,
        workerId: this.workerId,
        cacheVolumePrefix: `${this.workerId}-cache-`,
        workDir: join(this.dir, 'work'),
        pollingIntervalMs: 200,
        liveLog: { port, host: '127.0.0.1', publicUrl: `http://127.0.0.1:${port}` },
        capacityManagement: { diskspaceThreshold: 0 },
        ...config,
      }),
    );
    const child = spawn(process.execPath, [CLI, 'start', '--config', file, ...args], {
      env: {
        ...process.env,
        TASKCLUSTER_ROOT_URL: this.tc.rootUrl,
        TASKCLUSTER_CLIENT_ID: `worker/${this.workerId}`,
        TASKCLUSTER_ACCESS_TOKEN: 'worker-token-0123456789',
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = once(child, 'exit').then(([code]) => code as number | null);
    const worker = { child, stderr: () => stderr, exited };
    this.workers.push(worker);
    return worker;
  }

  /** The run's state once it is resolved (`completed`, `failed`, `exception/<reason>`). */
  async resolved(taskId: string, runId = 0): Promise<string> {
    for (;;) {
      const run = this.tc.queue.statusOf(taskId)?.runs[runId];
      if (run && run.state !== 'pending' && run.state !== 'running')
        return run.state === 'exception' ? `exception/${run.reasonResolved}` : run.state;
      await this.queueChange();
    }
  }

  /** Waits until the queue has seen another request (claims, reclaims, reports, sweeps). */
  private async queueChange(): Promise<void> {
    const seen = this.tc.requests.length;
    while (this.tc.requests.length === seen) await new Promise((r) => setTimeout(r, 50));
  }

  /** The artifact as a reader of the queue gets it: status, content type, body. */
  async artifact(
    taskId: string,
    name: string,
    runId = 0,
  ): Promise<{
    status: number;
    type: string | null;
    body: string;
    storage: string | null;
    encoding: string | null;
  }> {
    const first = await fetch(this.admin.buildUrl(this.admin.getArtifact, taskId, String(runId), name), {
      redirect: 'manual',
    });
    const storage = first.headers.get('x-taskcluster-artifact-storage-type');
    const location = first.headers.get('location');
    let res = first;
    if (first.status === 303 && location) {
      await first.body?.cancel();
      res = await fetch(location);
    }
    return {
      status: res.status,
      type: res.headers.get('content-type'),
      storage,
      encoding: res.headers.get('content-encoding'),
      body: await res.text(),
    };
  }

  /** The URL the live log reference points at while the task runs (queue 303). */
  async liveLogUrl(taskId: string): Promise<string> {
    for (;;) {
      const res = await fetch(
        this.admin.buildUrl(this.admin.getArtifact, taskId, '0', 'public/logs/live.log'),
        {
          redirect: 'manual',
        },
      );
      await res.body?.cancel();
      const location = res.headers.get('location');
      if (res.status === 303 && location?.includes('/log/')) return location;
      await this.queueChange();
    }
  }

  /** The running task container of `taskId` (waits for the engine's start event). */
  taskContainer(taskId: string): Promise<string> {
    return taskContainer(taskId);
  }

  /** Calls the worker made for a task, by path (`.../completed`, `.../artifacts/...`). */
  callsFor(taskId: string): string[] {
    return this.tc.requests
      .filter((r) => r.path.includes(`/task/${taskId}/`) && r.clientId?.startsWith('task-client/'))
      .map((r) => `${r.method} ${r.path.replace(/^\/api\/queue\/v1\/task\/[^/]+/, '')} ${r.status}`);
  }

  /**
   * What this session's workers left of the task (of any task without `taskId`), once each worker
   * has removed the runs it claimed (its `run removed` line; a run is reported before its
   * containers are removed) or has exited.
   */
  async leftovers(taskId?: string): Promise<{ containers: number; networks: number }> {
    await this.removed(taskId);
    return workerLeftovers(this.workerId, taskId);
  }

  /** Until every run claimed by a live worker of this session (of `taskId`, when given) is logged `run removed`. */
  private async removed(taskId?: string): Promise<void> {
    const pending = (): boolean =>
      this.workers.some((w) => {
        if (w.child.exitCode !== null || w.child.signalCode !== null) return false;
        const claimed = new Set<string>();
        for (const line of w.stderr().split('\n')) {
          if (!line.startsWith('{') || !line.endsWith('}')) continue; // not pino's, or still being written
          const e = JSON.parse(line) as { msg?: string; taskId?: string; runId?: number };
          if (taskId !== undefined && e.taskId !== taskId) continue;
          const key = `${e.taskId}/${e.runId}`;
          if (e.msg === 'claimed') claimed.add(key);
          else if (e.msg === 'run removed') claimed.delete(key);
        }
        return claimed.size > 0;
      });
    while (pending()) await new Promise((r) => setTimeout(r, 50));
  }

  async close(): Promise<void> {
    for (const w of this.workers)
      if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
    await Promise.all(this.workers.map((w) => w.exited));
    await removeWorkerResources(this.workerId);
    await this.tc.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The running task container of `taskId` (waits for the engine's start event). */
export async function taskContainer(taskId: string): Promise<string> {
  const filters = { label: [`org.docker-worker.task-id=${taskId}`, 'org.docker-worker.role=task'] };
  const events = await docker.getEvents({ filters: { ...filters, event: ['start'], type: ['container'] } });
  try {
    const running = await docker.listContainers({ filters: JSON.stringify(filters) });
    if (running[0]) return running[0].Id;
    const [chunk] = (await once(events, 'data')) as [Buffer];
    return (JSON.parse(chunk.toString().split('\n')[0] ?? '{}') as { id: string }).id;
  } finally {
    (events as unknown as { destroy(): void }).destroy();
  }
}
