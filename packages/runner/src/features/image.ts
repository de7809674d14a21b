/**
 * @module features/image
 * Resolves payload.image to a local image: a name or {type: docker-image, name} is pulled when
 * missing, with progress in the live log; a failed pull resolves failed with the engine's reason.
 * The indexed-image and task-image forms need the queue, which local mode does not have.
 */
import { DockerError } from '../docker/docker-client.js';
import { failure, malformedPayload } from '../errors.js';
import type { ImageRef } from '../task.js';
import type { Feature } from './feature.js';

export function imageName(ref: ImageRef): string {
  if (typeof ref === 'string') return ref;
  if (ref.type === 'docker-image') return ref.name;
  const what = ref.type === 'indexed-image' ? `index namespace ${ref.namespace}` : `task ${ref.taskId}`;
  throw malformedPayload(
    `payload.image of type "${ref.type}" (${what}, ${ref.path}) is not supported by this worker yet; give an image name or {"type": "docker-image", "name": ...} instead`,
  );
}

export const image: Feature = {
  name: 'image',
  isEnabled: () => true,
  isRequested: () => true,
  async start(run) {
    const name = imageName(run.task.payload.image);
    const { docker, liveLog } = run;
    let info = await docker.inspectImage(name);
    if (!info) {
      liveLog.info(`Pulling docker image ${name}`);
      try {
        await docker.pullImage(name, (line) => liveLog.info(`  ${line}`));
      } catch (err) {
        const reason = err instanceof DockerError || err instanceof Error ? err.message : String(err);
        throw failure(`Pulling docker image ${name} has failed: ${reason}`, err);
      }
      info = await docker.inspectImage(name);
      if (!info)
        throw failure(`Pulling docker image ${name} has failed: the engine does not have it after the pull`);
    }
    liveLog.info(`Image: ${name} (${info.digest ?? info.id})`);
    return { contribution: { image: info.id } };
  },
};
