/**
 * @module container-run
 * Runs the task container to its end in two steps, between which the lifecycle waits for the
 * features' sidecars to be ready (they get ready while the engine creates it): create; then
 * start, copy its output into the live log, wait.
 * When the run's signal fires (max-run-time, cancellation, shutdown) the container is killed and
 * the abort reason is thrown. What it learns (container id, exit code) goes into `result`.
 */
import type { Readable } from 'node:stream';
import type { SpecBuilder } from './container-spec.js';
import { DockerError } from './docker/docker-client.js';
import { failure, internalError } from './errors.js';
import type { ContainerResult } from './outcome.js';
import type { TaskRun } from './run-context.js';

/** Creates the task container (not started yet); its id also goes into `result`. */
export async function createTaskContainer(
  run: TaskRun,
  spec: SpecBuilder,
  result: ContainerResult,
): Promise<string> {
  const { docker } = run;
  const network = await run.taskNetwork();
  const box = run.config.taskContainer;
  const built = spec.build({
    labels: run.labels('task'),
    network: network.name,
    securityOpt: box.noNewPrivileges ? ['no-new-privileges'] : [],
    pidsLimit: box.pidsLimit,
    memoryBytes: box.memoryBytes,
    shmSize: box.shmSize,
    tty: box.tty,
  });
  let id: string;
  try {
    id = await docker.createContainer(built);
  } catch (err) {
    throw startFailure(err);
  }
  result.containerId = id;
  return id;
}

/** Starts the created task container and runs it to its end; the exit code goes into `result`. */
export async function runCreatedContainer(run: TaskRun, id: string, result: ContainerResult): Promise<void> {
  const { docker, liveLog, signal } = run;
  const box = run.config.taskContainer;
  const network = await run.taskNetwork();
  signal.throwIfAborted();
  const kill = (): void => void docker.killContainer(id).catch((err) => run.log.warn({ err }, 'kill failed'));
  signal.addEventListener('abort', kill, { once: true });
  try {
    liveLog.info('=== Task Starting ===');
    const output = await docker.attachOutput(id, { tty: box.tty }); // before start: not a byte is lost
    try {
      await docker.startContainer(id);
    } catch (err) {
      output.destroy();
      throw startFailure(err);
    }
    if (signal.aborted) kill(); // an abort during attach/start found nothing running to kill
    const copied = copy(output, (chunk) => liveLog.output(chunk));
    const exitCode = await docker.waitContainer(id);
    await copied;
    await liveLog.flush();
    await engineStillAnswers(run, exitCode);
    if (box.memoryBytes > 0 && (await docker.inspectContainer(id, network.name)).oomKilled) {
      liveLog.error(
        `The kernel killed the task for using more than the ${box.memoryBytes} bytes of memory this worker allows (worker config taskContainer.memoryBytes)`,
      );
    }
    liveLog.info('=== Task Finished ===');
    signal.throwIfAborted();
    result.exitCode = exitCode;
  } finally {
    signal.removeEventListener('abort', kill);
  }
}

/**
 * An exit seen while the engine no longer answers is not the task's: an engine that stops
 * (`systemctl stop|restart docker`, SIGTERM) closes its API at once, then stops every container
 * (SIGTERM, SIGKILL after 10 s: exit 137) and still reports that exit to a wait already open. The
 * worker can then neither tell it from the task's own nor collect the run: exception/internal-error.
 */
async function engineStillAnswers(run: TaskRun, exitCode: number): Promise<void> {
  try {
    await run.docker.ping();
  } catch (err) {
    throw internalError(
      `The Docker engine stopped answering as the task container ended (exit code ${exitCode}): an engine shutting down stops every container, so this exit is not the task's own. ${(err as Error).message}`,
      err,
    );
  }
}

function startFailure(err: unknown): Error {
  if (!(err instanceof DockerError)) return err as Error;
  return failure(`Failure to properly start execution environment. ${err.message}`, err);
}

async function copy(stream: Readable, onChunk: (chunk: Buffer) => Promise<void>): Promise<void> {
  for await (const chunk of stream) await onChunk(chunk as Buffer);
}
