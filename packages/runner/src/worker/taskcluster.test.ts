import { createServer, connect, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { taskclusterClients } from './taskcluster.js';

/** The parts of fake-taskcluster used here (imported by a string: its sources are not this package's to typecheck). */
interface FakeTaskcluster {
  port: number;
  requests: { path: string }[];
  close(): Promise<void>;
}
const FAKE: string = '@docker-worker/fake-taskcluster';
const startFakeTaskcluster = async (opts: Record<string, unknown>): Promise<FakeTaskcluster> =>
  (
    (await import(FAKE)) as { startFakeTaskcluster(o: unknown): Promise<FakeTaskcluster> }
  ).startFakeTaskcluster(opts);

const WORKER = { clientId: 'worker', accessToken: 'worker-token-0123456789', scopes: ['queue:*'] };

const sockets = new Set<Socket>();
/** A TCP relay in front of the fake Taskcluster that counts the connections made to it. */
async function countingRelay(
  port: number,
): Promise<{ server: Server; port: number; connections: () => number }> {
  let n = 0;
  const server = createServer((inbound) => {
    n++;
    const out = connect(port, '127.0.0.1');
    sockets.add(inbound).add(out);
    inbound.pipe(out).pipe(inbound);
    const end = (): void => {
      inbound.destroy();
      out.destroy();
    };
    inbound.on('error', end).on('close', end);
    out.on('error', end).on('close', end);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('no port');
  return { server, port: address.port, connections: () => n };
}

describe('taskclusterClients', () => {
  let tc: FakeTaskcluster | undefined;
  let relay: Server | undefined;
  afterEach(async () => {
    for (const s of sockets) s.destroy();
    sockets.clear();
    await new Promise((r) => (relay ? relay.close(r) : r(undefined)));
    await tc?.close();
  });

  it('keeps the connection to the queue alive from one call to the next, across clients', async () => {
    tc = await startFakeTaskcluster({ clients: [WORKER] });
    const r = await countingRelay(tc.port);
    relay = r.server;
    const clients = await taskclusterClients(`http://127.0.0.1:${r.port}`);
    // Each call through a client of its own, as the worker makes them; an unknown task answers 404.
    for (let i = 0; i < 3; i++)
      await expect(
        clients.queue(WORKER).reportCompleted('fN1SbArXTPSVFNUvaOlinQ', '0'),
      ).rejects.toMatchObject({
        statusCode: 404,
      });
    expect(tc.requests.filter((q) => q.path.includes('/completed'))).toHaveLength(3);
    expect(r.connections()).toBe(1);
  });
});
