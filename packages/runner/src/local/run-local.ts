/**
 * @module local/run-local
 * Local mode: one task on the local engine, no queue. Sweeps what crashed runs of this worker
 * left, runs the task with the live log to a sink (stdout) and artifacts into a directory.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { createLocalSink } from '../artifacts/local-sink.js';
import type { ArtifactErrorRecord, ArtifactRecord } from '../artifacts/sink.js';
import type { Clock } from '../clock.js';
import type { WorkerConfig } from '../config.js';
import type { DockerClient } from '../docker/docker-client.js';
import type { HostFirewall } from '../docker/host-firewall.js';
import type { SharedNetwork } from '../docker/shared-network.js';
import { sweepLeftovers } from '../docker/labels.js';
import { payloadErrors } from '../features/payload.js';
import { builtinFeatures } from '../features/index.js';
import type { Credentials, Feature, Outcome } from '../features/feature.js';
import { LiveLog, type LiveLogSink } from '../live-log-stream.js';
import { ImageUsage } from '../images/image-usage.js';
import { TaskRun } from '../run-context.js';
import { StageTimer } from '../stage-timer.js';
import { runTask } from '../task-run.js';
import type { TaskDefinition } from '../task.js';

export interface LocalRunOptions {
  task: TaskDefinition;
  config: WorkerConfig;
  docker: DockerClient;
  clock: Clock;
  log: Logger;
  artifactsDir: string;
  liveLogSink?: LiveLogSink;
  credentials?: Credentials;
  rootUrl?: string;
  features?: readonly Feature[];
  /** Keeps the task from this host's ports (see docker/host-firewall.ts). */
  firewall?: HostFirewall;
  /** Receives the run as soon as it exists (e.g. to abort it on SIGTERM). */
  onRun?: (run: TaskRun) => void;
  /** The worker's shared task network for runs without a sidecar (absent: a network per run). */
  sharedNetwork?: SharedNetwork;
  /** Per-stage timing, started by the caller (the CLI adds its start-up). */
  stages?: StageTimer;
  /** The record of images pulled or loaded (default: `<workDir>/image-usage.json`). */
  imageUsage?: ImageUsage;
}

export interface LocalRunResult extends Outcome {
  taskId: string;
  runId: number;
  artifacts: ArtifactRecord[];
  artifactErrors: ArtifactErrorRecord[];
}

export async function runLocalTask(opts: LocalRunOptions): Promise<LocalRunResult> {
  const { task, config, docker, log } = opts;
  const stages = opts.stages ?? new StageTimer(log);
  // A malformed task touches nothing on the engine: it resolves malformed-payload even when the
  // engine is down, so the sweep waits for a task that will run. It goes on beside the run (what
  // it removes belongs to processes that are gone, never to this run) and is awaited at the end.
  const sweep =
    payloadErrors(task).length === 0
      ? stages.time(
          'prepare_executor',
          async () => {
            const [swept] = await Promise.all([
              sweepLeftovers(docker, config.workerId),
              opts.firewall
                ?.sweep()
                .catch((err: unknown) => log.warn({ err: String(err) }, 'firewall sweep failed')),
            ]);
            if (swept > 0) log.info({ swept }, 'removed resources left by earlier runs');
          },
          { step: 'sweep' },
        )
      : Promise.resolve();
  // Awaited by the end of the run; a failure is the start-up sweep's, not the task's.
  const swept = sweep.catch((err: unknown) =>
    log.warn({ err: String(err) }, 'the start-up sweep failed; leftovers of earlier runs may remain'),
  );
  await mkdir(config.workDir, { recursive: true });
  const liveLog = new LiveLog(
    join(config.workDir, `${task.taskId}-${task.runId}-${process.pid}.log`),
    opts.clock,
    opts.liveLogSink,
  );
  const artifacts = createLocalSink(opts.artifactsDir);
  const run = new TaskRun(task, {
    docker,
    clock: opts.clock,
    log,
    config,
    artifacts,
    liveLog,
    credentials: opts.credentials,
    rootUrl: opts.rootUrl ?? config.rootUrl,
    stages,
    imageUsage: opts.imageUsage ?? (await ImageUsage.open(config.workDir)),
    ...(opts.sharedNetwork ? { sharedNetwork: opts.sharedNetwork } : {}),
    ...(opts.firewall ? { firewall: opts.firewall } : {}),
  });
  opts.onRun?.(run);
  const outcome = await runTask(run, opts.features ?? builtinFeatures);
  await swept;
  await liveLog.close(); // normally closed by the live-log feature; not if the run failed before it started
  if (liveLog.writeError)
    run.log.warn({ err: liveLog.writeError.message }, 'the live log file stopped taking writes (disk full?)');
  return {
    taskId: task.taskId,
    runId: task.runId,
    ...outcome,
    artifacts: [...artifacts.records],
    artifactErrors: [...artifacts.errors],
  };
}
