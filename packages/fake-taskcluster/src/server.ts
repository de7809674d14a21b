/**
 * @module server
 * `startFakeTaskcluster(options)`: builds the app, listens, records every request.
 *
 * @example
 * const tc = await startFakeTaskcluster({ clients: [{ clientId: 'c', accessToken: 't'.repeat(22), scopes: ['*'] }] });
 * // tc.rootUrl → http://127.0.0.1:41234
 * await tc.close();
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from './app.js';
import type { RecordedRequest } from './app.js';
import { ClientStore } from './clients.js';
import type { ClientSpec } from './clients.js';
import { TaskStore } from './tasks.js';
import type { TaskDefinition } from './tasks.js';
import type { RoleSpec } from './auth/scopes.js';

export interface FakeTaskclusterOptions {
  clients: ClientSpec[];
  roles?: RoleSpec[];
  /** Tasks `queue.task(taskId)` returns, by taskId (more with `tasks.add`). */
  tasks?: Record<string, TaskDefinition>;
  /** Default '127.0.0.1'; '0.0.0.0' lets containers reach it through a Docker network gateway. */
  host?: string;
  /** Default 0 (any free port). */
  port?: number;
  /** Injectable clock in ms (Hawk skew, certificate and client expiry). Default `Date.now`. */
  now?: () => number;
}

export interface FakeTaskcluster {
  rootUrl: string;
  port: number;
  /** Every request so far, in completion order. */
  requests: RecordedRequest[];
  store: ClientStore;
  tasks: TaskStore;
  close(): Promise<void>;
}

export async function startFakeTaskcluster(options: FakeTaskclusterOptions): Promise<FakeTaskcluster> {
  const store = new ClientStore(options.clients, options.roles ?? []);
  const requests: RecordedRequest[] = [];
  const tasks = new TaskStore(options.tasks);
  const app = createApp({ store, tasks, now: options.now ?? Date.now, onRequest: (r) => requests.push(r) });
  const server = createServer(app);
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
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
