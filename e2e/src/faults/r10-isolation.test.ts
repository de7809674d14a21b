/**
 * R10: from inside a task container (debian:bookworm-slim, bash's /dev/tcp), through a real queue
 * worker (as root: its host fence is on): another running task's taskcluster-proxy sidecar (by its
 * container name and by its IP on that task's network), the Docker socket (not mounted; TCP 2375
 * and 2376 on the gateway), the worker's live log server (listening on 0.0.0.0 here, so only the
 * fence stands in the way) and the fake Taskcluster on the host (0.0.0.0), both by the gateway.
 * Each probe must find nothing open. A control probe (the task's own proxy, `taskcluster:80`) must
 * connect, so a closed probe means closed, not a broken probe.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { docker, newSession } from '../docker.js';
import { freePort, QueueSession, type WorkerProcess } from '../queue-harness.js';
import { runLog } from './queue-util.js';
import { record, scale, until } from './recorder.js';
import { GATEWAY_SH } from './shell.js';

const session = newSession();
const ROUNDS = scale(1, 3);
let q: QueueSession;
let worker: WorkerProcess;
let liveLogPort = 0;
let tried = 0;
let held = 0;
const bad: string[] = [];
let controlOk = 0;

beforeAll(async () => {
  q = await QueueSession.start(`e2e-fault-r10-${session}`, { claimTimeoutSeconds: 6 });
  liveLogPort = await freePort();
  worker = await q.startWorker({
    capacity: 2,
    liveLog: { port: liveLogPort, host: '0.0.0.0', publicUrl: `http://127.0.0.1:${liveLogPort}` },
  });
});
afterAll(async () => {
  await q?.close();
  record({
    id: 'R10',
    fault:
      "a task reaching another task's sidecar (name, IP), the Docker socket (file, TCP 2375/2376), the worker's live log port and the host's Taskcluster (via the gateway)",
    tried,
    held,
    measured: `${held}/${tried} probes found nothing open (control: own proxy reached ${controlOk}/${ROUNDS}); live log and Taskcluster listened on 0.0.0.0, refused by the host fence${bad.length ? `; NOT HELD: ${bad.join('; ')}` : ''}`,
  });
});

/** The task's probes: one `OPEN name` or `CLOSED name` line each. */
const PROBES = String.raw`
probe() { if timeout 3 bash -c "exec 3<>/dev/tcp/$2/$3" 2>/dev/null; then echo "OPEN $1"; else echo "CLOSED $1"; fi; }
${GATEWAY_SH}
probe control-own-proxy taskcluster 80
probe other-sidecar-by-name "$OTHER_NAME" 80
probe other-sidecar-by-ip "$OTHER_IP" 80
if [ -e /var/run/docker.sock ] || [ -e /run/docker.sock ] || grep -q docker.sock /proc/mounts; then echo "OPEN docker-socket-file"; else echo "CLOSED docker-socket-file"; fi
probe docker-tcp-2375 "$GW" 2375
probe docker-tcp-2376 "$GW" 2376
probe live-log-port "$GW" "$LIVE_LOG_PORT"
probe taskcluster-on-host "$GW" "$TC_PORT"
echo PROBES-DONE
`;

/** The running proxy sidecar of `taskId`: its container name and IP on the task's network. */
async function sidecarOf(taskId: string): Promise<{ name: string; ip: string }> {
  const [c] = await docker.listContainers({
    filters: JSON.stringify({
      label: [`org.docker-worker.task-id=${taskId}`, 'org.docker-worker.role=sidecar'],
    }),
  });
  if (!c) throw new Error(`no sidecar of ${taskId}`);
  const ip = Object.values(c.NetworkSettings.Networks)[0]?.IPAddress ?? '';
  return { name: (c.Names[0] ?? '').replace(/^\//, ''), ip };
}

describe('R10: isolation of a task container', () => {
  it(`${ROUNDS} round(s) of probes from a task while another task's sidecar runs`, async () => {
    for (let round = 0; round < ROUNDS; round++) {
      // Task A: a proxy sidecar, and a container that waits until it is cancelled.
      const a = await q.createTask({ command: ['sleep', '300'], features: { taskclusterProxy: true } });
      await q.taskContainer(a);
      const other = await sidecarOf(a);
      const b = await q.createTask({
        command: ['/bin/bash', '-c', PROBES],
        features: { taskclusterProxy: true },
        env: {
          OTHER_NAME: other.name,
          OTHER_IP: other.ip,
          LIVE_LOG_PORT: String(liveLogPort),
          TC_PORT: String(q.tc.port),
        },
      });
      expect(await q.resolved(b)).toBe('completed');
      const log = await runLog(q, b);
      expect(log).toContain('PROBES-DONE');
      // The probes had real targets: the gateway as the task sees it, A's sidecar's address.
      expect(log).toMatch(/^gateway \d+\.\d+\.\d+\.\d+$/m);
      expect(other.ip).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
      const lines = log.split('\n').filter((l) => /^(OPEN|CLOSED) /.test(l));
      for (const l of lines) {
        const [verdict, name] = l.split(' ');
        if (name === 'control-own-proxy') {
          if (verdict === 'OPEN') controlOk++;
          continue;
        }
        tried++;
        if (verdict === 'CLOSED') held++;
        else bad.push(name ?? l);
      }
      await q.admin.cancelTask(a);
      expect(await q.resolved(a)).toBe('exception/canceled');
    }
    expect(controlOk).toBe(ROUNDS);
    expect(tried).toBe(7 * ROUNDS);
    expect(bad).toEqual([]);
    expect(worker.child.exitCode).toBeNull();
    // A's containers go once the worker sees the cancellation (its next reclaim).
    await until(async () => (await q.leftovers()).containers === 0);
    expect(await q.leftovers()).toEqual({ containers: 0, networks: 0 });
  });
});
