import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeDocker } from '../testing/fake-docker.js';
import { fakeRun } from '../testing/fake-run.js';
import { launchSidecar, startSidecar } from './sidecar.js';

let server: Server | undefined;
afterEach(() => server?.close());

async function loopbackServer(status: number): Promise<number> {
  server = createServer((_req, res) => res.writeHead(status).end());
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

function setup() {
  const docker = new FakeDocker();
  docker.images.add('side:1');
  docker.script = { output: 'booting\n' }; // keeps running
  const { run, clock } = fakeRun({ docker });
  return { docker, run, clock };
}

describe('startSidecar', () => {
  it('joins the task network under its alias and is ready once the path answers 2xx', async () => {
    const { docker, run } = setup();
    const port = await loopbackServer(200);
    const sidecar = await startSidecar(run, {
      image: 'side:1',
      alias: 'side',
      env: { A: '1' },
      readyPort: port,
      readyPath: '/health',
      timeoutMs: 5000,
    });
    const [container] = [...docker.containers.values()];
    expect(container?.spec).toMatchObject({
      image: 'side:1',
      aliases: ['side'],
      network: run.networkName,
      env: { A: '1' },
    });
    expect(container?.spec.labels['org.docker-worker.role']).toBe('sidecar');
    // The task container gets `alias:ip` in /etc/hosts, as docker-worker's links gave it.
    expect(sidecar.hostsEntry).toBe(`side:${sidecar.ip}`);
    expect(sidecar.ip).not.toBe('');
    await sidecar.stop();
    await run.liveLog.close();
    expect(readFileSync(run.liveLog.path, 'utf8')).toContain('[side] booting\n');
  });

  it('stops gracefully with the configured grace, keeps its last words in the live log, then removes it', async () => {
    const { docker, run } = setup();
    docker.script = { output: 'booting\n', stopOutput: 'got SIGTERM\nbye' }; // no newline after the last word
    const port = await loopbackServer(200);
    const sidecar = await startSidecar(run, {
      image: 'side:1',
      alias: 'side',
      readyPort: port,
      readyPath: '/',
      timeoutMs: 5000,
    });
    await sidecar.stop();
    await sidecar.stop(); // idempotent
    expect(docker.stops).toEqual([{ id: sidecar.containerId, graceSeconds: 5 }]); // the config default
    expect(docker.resources.has(sidecar.containerId)).toBe(false);
    await run.liveLog.close();
    expect(readFileSync(run.liveLog.path, 'utf8')).toContain(
      '[side] booting\n[side] got SIGTERM\n[side] bye\n',
    );
  });

  it('takes the grace from the options, else from the worker config', async () => {
    const docker = new FakeDocker();
    docker.images.add('side:1');
    docker.script = { output: '' };
    const { run } = fakeRun({ docker, config: { sidecarStopGraceSeconds: 2 } });
    const port = await loopbackServer(200);
    await (
      await startSidecar(run, {
        image: 'side:1',
        alias: 'a',
        readyPort: port,
        readyPath: '/',
        timeoutMs: 5000,
      })
    ).stop();
    await (
      await startSidecar(run, {
        image: 'side:1',
        alias: 'b',
        readyPort: port,
        readyPath: '/',
        timeoutMs: 5000,
        stopGraceSeconds: 0,
      })
    ).stop();
    expect(docker.stops.map((s) => s.graceSeconds)).toEqual([2, 0]);
  });

  it('gives up after timeoutMs on the run clock, with the sidecar log lines up to its stop', async () => {
    const { docker, run, clock } = setup();
    docker.script = { output: 'booting\n', stopOutput: 'stopping before ready\n' };
    const port = await loopbackServer(503);
    const started = startSidecar(run, {
      image: 'side:1',
      alias: 'side',
      readyPort: port,
      readyPath: '/',
      timeoutMs: 1000,
      intervalMs: 100,
    });
    let error: unknown;
    started.catch((err: unknown) => (error = err));
    for (let i = 0; i < 50 && error === undefined; i++) await clock.advance(100);
    expect(error).toMatchObject({ resolution: 'failed' });
    expect((error as Error).message).toMatch(
      /the side sidecar \(side:1\) did not answer on port \d+ within 1s; its last log lines:\nbooting\nstopping before ready$/,
    );
    expect(docker.stops).toHaveLength(1);
    expect(docker.resources.size).toBe(1); // only the network: the sidecar is gone
  });

  it('fails at once when the sidecar exits, quoting its output', async () => {
    const { docker, run } = setup();
    docker.script = { output: 'missing PROXIED_SERVER\n', exitCode: 1 };
    await expect(
      startSidecar(run, { image: 'side:1', alias: 'side', readyPort: 80, timeoutMs: 1000 }),
    ).rejects.toThrow(
      /exited with status 1 before it was ready; its last log lines:\nmissing PROXIED_SERVER$/,
    );
    expect(docker.resources.size).toBe(1); // only the network
  });

  it('says how to get a missing image', async () => {
    const { run } = setup();
    await expect(
      startSidecar(run, { image: 'absent:1', alias: 'x', readyPort: 80, timeoutMs: 10 }),
    ).rejects.toMatchObject({ resolution: 'resource-unavailable' });
  });

  it('launchSidecar hands back its address before it answers; ready resolves once it does', async () => {
    const { docker, run, clock } = setup();
    let status = 503;
    server = createServer((_req, res) => res.writeHead(status).end());
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const sidecar = await launchSidecar(run, {
      image: 'side:1',
      alias: 'side',
      readyPort: port,
      readyPath: '/',
      timeoutMs: 5000,
      intervalMs: 100,
    });
    expect(sidecar.hostsEntry).toBe(`side:${docker.ip}`);
    let ready = false;
    void sidecar.ready.then(() => (ready = true));
    await clock.advance(100);
    expect(ready).toBe(false); // still 503
    status = 200;
    for (let i = 0; i < 20 && !ready; i++) await clock.advance(100);
    expect(ready).toBe(true);
    await sidecar.stop();
  });

  it('a stop while it is not ready yet ends the wait and removes it; ready rejects, never unhandled', async () => {
    const { docker, run } = setup();
    const port = await loopbackServer(503);
    const sidecar = await launchSidecar(run, {
      image: 'side:1',
      alias: 'side',
      readyPort: port,
      readyPath: '/',
      timeoutMs: 60_000,
    });
    await sidecar.stop();
    await expect(sidecar.ready).rejects.toThrow();
    expect(docker.stops).toEqual([{ id: sidecar.containerId, graceSeconds: 5 }]);
    expect(docker.resources.size).toBe(1); // only the network
  });
});
