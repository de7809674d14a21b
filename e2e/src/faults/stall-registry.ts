/**
 * @module e2e/faults/stall-registry
 * A registry on loopback that answers the engine's `/v2/` ping and holds every manifest request
 * for `holdMs` before answering 404 (MANIFEST_UNKNOWN): a pull that stays in progress for a while
 * (the engine treats 127.0.0.0/8 as an insecure registry, plain HTTP).
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StallRegistry {
  /** `127.0.0.1:<port>` */
  host: string;
  /** Resolves when the engine first asks for a manifest (the pull is under way). */
  asked: Promise<void>;
  close(): Promise<void>;
}

export async function startStallRegistry(holdMs: number): Promise<StallRegistry> {
  let markAsked: () => void = () => undefined;
  const asked = new Promise<void>((r) => (markAsked = r));
  const timers = new Set<NodeJS.Timeout>();
  const server: Server = createServer((req, res) => {
    res.setHeader('Docker-Distribution-API-Version', 'registry/2.0');
    if (req.url === '/v2/' || req.url === '/v2') return void res.end('{}');
    if (/\/manifests\//.test(req.url ?? '')) markAsked();
    const t = setTimeout(() => {
      timers.delete(t);
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown' }] }));
    }, holdMs);
    timers.add(t);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    host: `127.0.0.1:${port}`,
    asked,
    close: async () => {
      for (const t of timers) clearTimeout(t);
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}
