// One `docker-worker start` for the queue-mode benches, on a fake Taskcluster (`tc`, in the
// bench's process): its client is added to the fake's store, its debug log parsed as it comes
// ('task stages', 'stage resolve', claimed / resolved times); it is handed back once its first
// claimWork has been answered (its start-up sweep behind it): after the fake's long poll
// (claimWorkWaitMs) when no task is pending, so benches keep that short.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { startFakeTaskcluster } from '@docker-worker/fake-taskcluster';

const WORKER_TOKEN = 'worker-token-0123456789';

/** The client that creates the benches' tasks. */
export const ADMIN = { clientId: 'admin', accessToken: 'admin-token-0123456789', scopes: ['*'] };

/**
 * The fake Taskcluster of a queue-mode bench, in its process on loopback: long polls of
 * `claimWorkWaitMs` (a worker is handed back once its first claimWork is answered), claims of 60 s
 * swept every 200 ms.
 */
export function startBenchTaskcluster(claimWorkWaitMs = 500) {
  return startFakeTaskcluster({
    clients: [ADMIN],
    host: '127.0.0.1',
    claimTimeoutSeconds: 60,
    claimWorkWaitMs,
    sweepIntervalMs: 200,
  });
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export async function startQueueWorker({ tc, cli, tmp, workerId, taskQueueId, capacity, config = {} }) {
  const workerGroup = 'bench';
  tc.store.addClient({
    clientId: `worker/${workerId}`,
    accessToken: WORKER_TOKEN,
    scopes: [`queue:claim-work:${taskQueueId}`, `queue:worker-id:${workerGroup}/*`],
  });
  const file = join(tmp, `${workerId}.json`);
  writeFileSync(
    file,
    JSON.stringify({
      taskQueueId,
      workerGroup,
      workerId,
      capacity,
      workDir: join(tmp, `work-${workerId}`),
      liveLog: { port: 0, host: '127.0.0.1' },
      capacityManagement: { diskspaceThreshold: 0 },
      ...config,
    }),
  );
  const child = spawn(process.execPath, [cli, 'start', '--config', file], {
    env: {
      ...process.env,
      TASKCLUSTER_ROOT_URL: tc.rootUrl,
      TASKCLUSTER_CLIENT_ID: `worker/${workerId}`,
      TASKCLUSTER_ACCESS_TOKEN: WORKER_TOKEN,
      LOG_LEVEL: 'debug',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const w = { workerId, child, done: false, tail: '', stages: [], resolves: [], events: [], taskQueueId };
  w.exited = once(child, 'exit').then(([code, signal]) => ({ code, signal }));
  w.exited.then(() => (w.done = true));
  createInterface({ input: child.stderr }).on('line', (line) => {
    w.tail = (w.tail + line + '\n').slice(-20_000);
    if (!line.startsWith('{')) return;
    const e = JSON.parse(line);
    if (e.msg === 'task stages') w.stages.push(e.stages);
    else if (e.msg === 'stage resolve') w.resolves.push(e.ms);
    else if (e.msg === 'claimed' || e.msg === 'task resolved') w.events.push({ msg: e.msg, time: e.time });
  });
  const client = `worker/${workerId}`;
  const deadline = Date.now() + 60_000;
  while (!tc.requests.some((r) => r.clientId === client && r.path.includes('claim-work'))) {
    if (w.done) {
      w.child.kill('SIGKILL');
      throw new Error(`worker ${workerId} exited before claiming:\n${w.tail}`);
    }
    if (Date.now() > deadline) {
      w.child.kill('SIGKILL');
      throw new Error(`worker ${workerId} did not claim within 60 s:\n${w.tail}`);
    }
    await sleep(50);
  }
  return w;
}

/** SIGTERM (it finishes or hands back its tasks), SIGKILL after 30 s. */
export async function stopQueueWorker(w) {
  if (!w.done) w.child.kill('SIGTERM');
  const t = setTimeout(() => w.done || w.child.kill('SIGKILL'), 30_000);
  await w.exited;
  clearTimeout(t);
}

/** A task definition for the fake queue: `payload` on `taskQueueId`, no scopes, no retries, due in an hour. */
export function benchTask(taskQueueId, payload, description) {
  const t = Date.now();
  return {
    taskQueueId,
    created: new Date(t).toJSON(),
    deadline: new Date(t + 3600_000).toJSON(),
    expires: new Date(t + 86_400_000).toJSON(),
    scopes: [],
    retries: 0,
    payload,
    metadata: { name: 'bench', description, owner: 'bench@example.com', source: 'https://example.com/bench' },
  };
}
