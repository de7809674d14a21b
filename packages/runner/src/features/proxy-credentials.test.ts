// putCredentials against a real HTTP server on loopback standing in for the proxy sidecar's
// `PUT /credentials` (the sidecar itself is tested with its image in e2e).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../testing/fake-clock.js';
import { recordingLog } from '../gc/testing.js';
import { putCredentials } from './taskcluster-proxy.js';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise<void>((r) => s.close(() => r()))));
});

/** A sidecar answering each PUT with the next status of `statuses` (the last one repeats). */
async function sidecar(statuses: number[]) {
  const bodies: unknown[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      bodies.push({
        method: req.method,
        url: req.url,
        auth: req.headers.authorization,
        body: JSON.parse(body),
      });
      res.writeHead(statuses[Math.min(bodies.length - 1, statuses.length - 1)] ?? 200).end();
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { ip: `127.0.0.1:${(server.address() as AddressInfo).port}`, bodies };
}

const NEXT = { clientId: 'task-client', accessToken: 'tok', certificate: '{"version":1}' };

/** Runs putCredentials on a fake clock, moving time until it settles. */
async function put(ip: string, controller = new AbortController()) {
  const clock = new FakeClock();
  const { log, lines } = recordingLog();
  let settled = false;
  const done = putCredentials({ log, clock, signal: controller.signal }, { ip }, 'the-secret', NEXT).finally(
    () => (settled = true),
  );
  for (let i = 0; i < 100 && !settled; i++) {
    await new Promise((r) => setTimeout(r, 5));
    await clock.advance(1_000);
  }
  await done;
  return lines;
}

describe('putCredentials', () => {
  it('sends the set with the secret, and tries again after a 5xx until the sidecar takes it', async () => {
    const s = await sidecar([503, 502, 200]);
    const lines = await put(s.ip);
    expect(s.bodies).toHaveLength(3);
    expect(s.bodies[2]).toEqual({
      method: 'PUT',
      url: '/credentials',
      auth: 'Bearer the-secret',
      body: { clientId: 'task-client', accessToken: 'tok', certificate: '{"version":1}' },
    });
    expect(lines.at(-1)).toMatchObject({ msg: 'proxy credentials updated', attempt: 3 });
    expect(JSON.stringify(lines)).not.toContain('tok"'); // the token is never logged
  });

  it('gives up after five attempts with one warning; a 4xx is not tried again', async () => {
    const failing = await sidecar([500]);
    const lines = await put(failing.ip);
    expect(failing.bodies).toHaveLength(5);
    expect(lines.filter((l) => l.level === 40)).toMatchObject([
      { msg: 'proxy credentials update failed', attempts: 5 },
    ]);
    const refusing = await sidecar([403]);
    const refused = await put(refusing.ip);
    expect(refusing.bodies).toHaveLength(1);
    expect(refused.at(-1)).toMatchObject({ msg: 'proxy refused new credentials', status: 403 });
  });

  it('stops trying once the run ends', async () => {
    const s = await sidecar([500]);
    const controller = new AbortController();
    controller.abort();
    await put(s.ip, controller);
    expect(s.bodies).toHaveLength(1);
  });
});
