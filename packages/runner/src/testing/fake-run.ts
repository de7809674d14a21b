/**
 * @module testing/fake-run
 * Builds a TaskRun for unit tests: FakeDocker, FakeClock, a silent logger, a live log in a
 * temporary file and a local artifact sink in a temporary directory.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import { createLocalSink } from '../artifacts/local-sink.js';
import { buildConfig, type WorkerConfigInput } from '../config.js';
import type { DockerClient } from '../docker/docker-client.js';
import type { SharedNetwork } from '../docker/shared-network.js';
import type { Contribution, Credentials, Feature, Outcome } from '../features/feature.js';
import type { ImageUsage } from '../images/image-usage.js';
import { LiveLog } from '../live-log-stream.js';
import { TaskRun } from '../run-context.js';
import type { Payload, TaskDefinition } from '../task.js';
import { FakeClock } from './fake-clock.js';
import { FakeDocker } from './fake-docker.js';

export interface FakeRunOptions {
  payload?: Partial<Payload> | Record<string, unknown>;
  scopes?: string[];
  config?: WorkerConfigInput;
  docker?: DockerClient;
  clock?: FakeClock;
  credentials?: Credentials;
  rootUrl?: string;
  taskId?: string;
  /** The worker's shared task network (docker/shared-network.ts); absent: a network per run. */
  sharedNetwork?: SharedNetwork;
  /** The worker's record of the images it pulled or loaded. */
  imageUsage?: ImageUsage;
  /** The operator log (default: silent). */
  log?: Logger;
  /** The run's expandScopes (queue mode gives the worker's). */
  expandScopes?: (scopes: string[]) => Promise<string[]>;
}

export function fakeTask(
  opts: Pick<FakeRunOptions, 'payload' | 'scopes' | 'taskId'> = {},
  now = Date.UTC(2026, 0, 1),
): TaskDefinition {
  return {
    taskId: opts.taskId ?? 'fakeTaskId0000000000AA',
    runId: 0,
    scopes: opts.scopes ?? [],
    payload: { image: 'debian:bookworm-slim', command: ['true'], maxRunTime: 60, ...opts.payload } as Payload,
    created: new Date(now),
    deadline: new Date(now + 86_400_000),
    expires: new Date(now + 30 * 86_400_000),
  };
}

export function fakeRun(opts: FakeRunOptions = {}): {
  run: TaskRun;
  docker: DockerClient;
  clock: FakeClock;
  dir: string;
} {
  const dir = mkdtempSync(join(tmpdir(), 'runner-test-'));
  const clock = opts.clock ?? new FakeClock();
  const docker = opts.docker ?? new FakeDocker();
  const config = buildConfig({ workerId: 'test-worker', workDir: dir, ...opts.config });
  const run = new TaskRun(fakeTask(opts, clock.now()), {
    docker,
    clock,
    log: opts.log ?? pino({ level: 'silent' }),
    config,
    artifacts: createLocalSink(join(dir, 'artifacts')),
    liveLog: new LiveLog(join(dir, 'live.log'), clock),
    credentials: opts.credentials,
    rootUrl: opts.rootUrl,
    ...(opts.sharedNetwork ? { sharedNetwork: opts.sharedNetwork } : {}),
    ...(opts.imageUsage ? { imageUsage: opts.imageUsage } : {}),
    ...(opts.expandScopes ? { expandScopes: opts.expandScopes } : {}),
  });
  return { run, docker, clock, dir };
}

/** A feature's handle with every hook present (no-ops where the feature has none), for unit tests. */
export interface StartedFeature {
  contribution: Contribution;
  stop(outcome: Outcome): Promise<void>;
  afterCleanup(outcome: Outcome): Promise<void>;
  finish(outcome: Outcome): Promise<void>;
}

/** Starts `feature` for `run` as the lifecycle does (without the enabled/scope checks). */
export async function startFeature(feature: Feature, run: TaskRun): Promise<StartedFeature> {
  const handle = (await feature.start(run)) ?? {};
  return {
    contribution: handle.contribution ?? {},
    stop: (outcome) => handle.stop?.(outcome) ?? Promise.resolve(),
    afterCleanup: (outcome) => handle.afterCleanup?.(outcome) ?? Promise.resolve(),
    finish: (outcome) => handle.finish?.(outcome) ?? Promise.resolve(),
  };
}

/** An outcome for stops in unit tests: completed with exit 0 unless told otherwise. */
export function fakeOutcome(over: Partial<Outcome> = {}): Outcome {
  return { state: 'completed', reasonResolved: 'completed', exitCode: 0, durationMs: 1, ...over };
}
