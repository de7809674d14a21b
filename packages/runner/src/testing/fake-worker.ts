/**
 * @module testing/fake-worker
 * The dependencies of queue mode (`ClaimedRun`, `Worker`) for unit tests: FakeDocker, FakeClock,
 * a MemoryQueue, the built-in features, a stand-in live log server that records what it
 * publishes, a work directory of its own, and a logger whose lines the test can read.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { buildConfig, type WorkerConfig, type WorkerConfigInput } from '../config.js';
import type { Credentials, Feature } from '../features/feature.js';
import { builtinFeatures } from '../features/index.js';
import type { LiveLog } from '../live-log-stream.js';
import type { ClaimDeps } from '../worker/claim.js';
import type { LiveLogServer } from '../worker/live-log-server.js';
import { FakeClock } from './fake-clock.js';
import { FakeDocker } from './fake-docker.js';
import { MemoryQueue } from './memory-queue.js';

/** A LiveLogServer that serves nothing: it records each log published and whether it still is. */
export interface StubLiveLogServer extends LiveLogServer {
  readonly published: { log: LiveLog; url: string; live: boolean }[];
}

export function stubLiveLogServer(url = 'http://127.0.0.1:60023'): StubLiveLogServer {
  const published: { log: LiveLog; url: string; live: boolean }[] = [];
  return {
    url,
    port: 60023,
    published,
    publish(log) {
      const entry = { log, url: `${url}/log/token${published.length + 1}`, live: true };
      published.push(entry);
      return { url: entry.url, unpublish: () => void (entry.live = false) };
    },
    close: async () => undefined,
  };
}

export interface FakeWorker {
  clock: FakeClock;
  docker: FakeDocker;
  memory: MemoryQueue;
  config: WorkerConfig;
  liveLogServer: StubLiveLogServer;
  /** Every operator log line, parsed. */
  logs: { msg: string; level: number; [key: string]: unknown }[];
  /** ClaimDeps, plus the worker's own credentials (WorkerDeps takes them too). */
  deps: ClaimDeps & { credentials: Credentials };
}

export function fakeWorker(
  opts: { config?: WorkerConfigInput; features?: readonly Feature[]; claimTimeoutMs?: number } = {},
): FakeWorker {
  const clock = new FakeClock();
  const docker = new FakeDocker();
  const memory = new MemoryQueue({
    now: () => clock.now(),
    ...(opts.claimTimeoutMs !== undefined ? { claimTimeoutMs: opts.claimTimeoutMs } : {}),
  });
  const config = buildConfig({
    workerId: 'test-worker',
    workerGroup: 'test-group',
    rootUrl: 'https://tc.example.com',
    workDir: mkdtempSync(join(tmpdir(), 'fake-worker-')),
    ...opts.config,
  });
  const logs: FakeWorker['logs'] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => void logs.push(JSON.parse(line)) });
  const liveLogServer = stubLiveLogServer();
  return {
    clock,
    docker,
    memory,
    config,
    liveLogServer,
    logs,
    deps: {
      docker,
      clients: memory.clients,
      credentials: { clientId: 'worker-client', accessToken: 'worker-token' },
      clock,
      log,
      config,
      features: opts.features ?? builtinFeatures,
      liveLogServer,
    },
  };
}
