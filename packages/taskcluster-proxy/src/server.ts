/**
 * @module server
 * `startTaskclusterProxy(deps, {port, host})`: listens with `createHandler(deps)`; used by the CLI and
 * by tests that run the proxy in-process.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHandler } from './app.js';
import type { ProxyDeps } from './app.js';

export interface ListenOptions {
  /** Default 0 (any free port). */
  port?: number;
  /** Default '127.0.0.1'. */
  host?: string;
}

export interface RunningProxy {
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function startTaskclusterProxy(
  deps: ProxyDeps,
  options: ListenOptions = {},
): Promise<RunningProxy> {
  const server = createServer(createHandler(deps));
  // Uploads may take long; never time a request out in the proxy.
  server.requestTimeout = 0;
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const urlHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return {
    url: `http://${urlHost}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
