/**
 * @module container-run
 * Runs the task container to its end: create, start, copy its output into the live log, wait.
 * When the run's signal fires (max-run-time, shutdown) the container is killed and the abort
 * reason is thrown.
 */
import type { Readable } from 'node:stream';
import { DockerError } from './docker/docker-client.js';
import { failure } from './errors.js';
import type { RunContext } from './run-context.js';

export async function runContainer(run: RunContext): Promise<number> {
  const { docker, liveLog, signal } = run;
  const spec = run.spec.build({ labels: run.labels('task'), network: run.network.name });
  let id: string;
  try {
    id = await docker.createContainer(spec);
  } catch (err) {
    throw startFailure(err);
  }
  run.containerId = id;
  signal.throwIfAborted();
  const kill = (): void => void docker.killContainer(id).catch((err) => run.log.warn({ err }, 'kill failed'));
  signal.addEventListener('abort', kill, { once: true });
  try {
    liveLog.info('=== Task Starting ===');
    const output = await docker.attachOutput(id); // before start: not a byte is lost
    try {
      await docker.startContainer(id);
    } catch (err) {
      output.destroy();
      throw startFailure(err);
    }
    const copied = copy(output, (chunk) => liveLog.output(chunk));
    const exitCode = await docker.waitContainer(id);
    await copied;
    await liveLog.flush();
    liveLog.info('=== Task Finished ===');
    signal.throwIfAborted();
    return exitCode;
  } finally {
    signal.removeEventListener('abort', kill);
  }
}

function startFailure(err: unknown): Error {
  if (!(err instanceof DockerError)) return err as Error;
  return failure(`Failure to properly start execution environment. ${err.message}`, err);
}

async function copy(stream: Readable, onChunk: (chunk: Buffer) => Promise<void>): Promise<void> {
  for await (const chunk of stream) await onChunk(chunk as Buffer);
}
