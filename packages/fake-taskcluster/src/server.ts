/**
 * @module server
 * `startFakeTaskcluster(options)`: builds the app, listens, records every request.
 *
 * @example
 * const tc = await startFakeTaskcluster({ clients: [{ clientId: 'c', accessToken: 't'.repeat(22), scopes: ['*'] }] });
 * // tc.rootUrl → http://127.0.0.1:41234
 * await tc.close();
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Faults } from './faults.js';
import type { IndexStore } from './index-store.js';
import type { Artifact } from './queue/artifact-store.js';
import type { TaskStatus } from './queue/model.js';
import { createServices } from './services.js';
import { createApp } from './app.js';
import type { RecordedRequest } from './app.js';
import { ClientStore } from './clients.js';
import type { ClientSpec } from './clients.js';
import { TaskStore } from './tasks.js';
import type { TaskDefinition } from './tasks.js';
import type { RoleSpec } from './auth/scopes.js';
import type { StaticWorkerSpec, WorkerManager, WorkerPoolSpec } from './worker-manager/worker-manager.js';

export interface FakeTaskclusterOptions {
  clients: ClientSpec[];
  roles?: RoleSpec[];
  /** Tasks `queue.task(taskId)` returns, by taskId (more with `tasks.add`). */
  tasks?: Record<string, TaskDefinition>;
  /** Default '127.0.0.1'; '0.0.0.0' lets containers reach it through a Docker network gateway. */
  host?: string;
  /** Default 0 (any free port). */
  port?: number;
  /** Injectable clock in ms (Hawk skew, certificate and client expiry, claims, deadlines). Default `Date.now`. */
  now?: () => number;
  /** A claim lasts this long without a reclaim (queue `claimTimeout`). Default 1200. */
  claimTimeoutSeconds?: number;
  /** claimWork waits up to this long for a pending task. Default 20000. */
  claimWorkWaitMs?: number;
  /** Where uploaded bytes go; default a fresh temp dir, removed on close. */
  storageDir?: string;
  /** How often claim expiry and deadlines are checked on a real timer. Default 500. */
  sweepIntervalMs?: number;
  /** `public/` artifacts readable without scopes (a deployment's anonymous role). Default true. */
  publicArtifacts?: boolean;
  /** worker-manager's worker pools (more with `workerManager.addPool`). */
  workerPools?: WorkerPoolSpec[];
  /** Static workers of those pools (more with `workerManager.addStaticWorker`). */
  staticWorkers?: StaticWorkerSpec[];
  /** Lifetime of worker credentials from (re)registerWorker. Default 96 h (upstream's default). */
  workerCredentialsTtlSeconds?: number;
}

/** worker-manager's state, for test set-up and assertions. */
export type WorkerManagerHandle = Pick<
  WorkerManager,
  'addPool' | 'addStaticWorker' | 'worker' | 'list' | 'setShouldTerminate'
>;

/** The queue's state, for test assertions. */
export interface QueueHandle {
  statusOf(taskId: string): TaskStatus | undefined;
  /** Every artifact record of a run (also object artifacts not yet finished). */
  artifactsOf(taskId: string, runId: number): Artifact[];
  /** Applies claim expiry and deadlines now (also done before every request and on a timer). */
  sweep(): void;
}

export interface FakeTaskcluster {
  rootUrl: string;
  port: number;
  /** Every request so far, in completion order. */
  requests: RecordedRequest[];
  store: ClientStore;
  tasks: TaskStore;
  queue: QueueHandle;
  faults: Faults;
  index: Pick<IndexStore, 'insert'>;
  workerManager: WorkerManagerHandle;
  close(): Promise<void>;
}

export async function startFakeTaskcluster(options: FakeTaskclusterOptions): Promise<FakeTaskcluster> {
  const store = new ClientStore(options.clients, options.roles ?? []);
  const requests: RecordedRequest[] = [];
  const tasks = new TaskStore(options.tasks);
  const now = options.now ?? Date.now;
  const ownDir = options.storageDir === undefined;
  const storageDir = options.storageDir ?? mkdtempSync(join(tmpdir(), 'fake-taskcluster-'));
  mkdirSync(storageDir, { recursive: true });
  const services = createServices({
    store,
    now,
    storageDir,
    ...pick(options, 'claimTimeoutSeconds', 'workerCredentialsTtlSeconds'),
  });
  const wm = services.workerManager;
  for (const pool of options.workerPools ?? []) wm.addPool(pool);
  for (const worker of options.staticWorkers ?? []) wm.addStaticWorker(worker);
  const app = createApp({
    store,
    tasks,
    now,
    services,
    onRequest: (r) => requests.push(r),
    ...pick(options, 'claimWorkWaitMs', 'publicArtifacts'),
  });
  const server = createServer(app);
  const sweeper = setInterval(() => services.queue.sweep(), options.sweepIntervalMs ?? 500);
  sweeper.unref();
  server.keepAliveTimeout = 5_000;
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const urlHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  return {
    rootUrl: `http://${urlHost}:${port}`,
    port,
    requests,
    store,
    tasks,
    queue: {
      statusOf: (taskId) => services.queue.statusOf(taskId),
      artifactsOf: (taskId, runId) => structuredClone(services.artifacts.list(taskId, runId)),
      sweep: () => services.queue.sweep(),
    },
    faults: services.faults,
    index: { insert: (namespace, entry) => services.index.insert(namespace, entry) },
    workerManager: {
      addPool: (pool) => wm.addPool(pool),
      addStaticWorker: (worker) => wm.addStaticWorker(worker),
      worker: (pool, group, id) => wm.worker(pool, group, id),
      list: (pool, state) => wm.list(pool, state),
      setShouldTerminate: (pool, group, id, decision) => wm.setShouldTerminate(pool, group, id, decision),
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        clearInterval(sweeper);
        server.close((err) => {
          if (ownDir) rmSync(storageDir, { recursive: true, force: true });
          return err ? reject(err) : resolve();
        });
        server.closeAllConnections();
      }),
  };
}

/** The options that are set (exactOptionalPropertyTypes-friendly). */
function pick<T extends object, K extends keyof T>(o: T, ...keys: K[]): Partial<Pick<T, K>> {
  return Object.fromEntries(keys.filter((k) => o[k] !== undefined).map((k) => [k, o[k]])) as Partial<
    Pick<T, K>
  >;
}
