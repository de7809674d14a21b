/**
 * @module features/image
 * Resolves payload.image to an image id on the engine through its source (images/sources/): a
 * registry name (`name`, `{type: docker-image}`), a task's artifact (`{type: task-image}`) or an
 * indexed task's artifact (`{type: indexed-image}`). The container runs by that id, never by a
 * tag (a name in the reserved repository is refused by payload-checks.ts). Every image this
 * worker pulled or loaded is recorded in the run's ImageUsage when a task uses it (the image GC
 * reads it), with the sha256 of the artifact an artifact image came from, which the run keeps
 * (`imageArtifactSha256`) for chainOfTrust.
 */
import { malformedPayload } from '../errors.js';
import type { ImageSource, ResolvedImage } from '../images/source.js';
import { indexedImageSource } from '../images/sources/indexed-image.js';
import { registrySource } from '../images/sources/registry.js';
import { taskImageSource } from '../images/sources/task-image.js';
import type { TaskRun } from '../run-context.js';
import type { ImageRef } from '../task.js';
import type { Feature } from './feature.js';

/** The registry name of an image given by name (string or docker-image); undefined for artifact images. */
export function imageName(ref: ImageRef): string | undefined {
  if (typeof ref === 'string') return ref;
  return ref.type === 'docker-image' ? ref.name : undefined;
}

/** The source of `ref` and the part of it that source reads. */
function sourceOf(ref: ImageRef): { source: ImageSource<never>; value: unknown } {
  const name = imageName(ref);
  if (name !== undefined) return { source: registrySource, value: name };
  if (typeof ref !== 'string' && ref.type === 'task-image')
    return { source: taskImageSource, value: { taskId: ref.taskId, path: ref.path } };
  if (typeof ref !== 'string' && ref.type === 'indexed-image')
    return { source: indexedImageSource, value: { namespace: ref.namespace, path: ref.path } };
  throw malformedPayload(`payload.image: unknown image form ${JSON.stringify(ref)}`);
}

async function recordUse(run: TaskRun, image: ResolvedImage): Promise<void> {
  const usage = run.imageUsage;
  if (!usage) return;
  const source = image.source ?? usage.get(image.id)?.source;
  if (!source) return; // present before this worker pulled it: the operator's, never collected
  const artifacts = image.artifactSha256 ? { artifacts: { [image.ref]: image.artifactSha256 } } : {};
  await usage
    .touch({ id: image.id, ref: image.ref, source, lastUsed: run.clock.now(), ...artifacts })
    .catch((err: unknown) => run.log.warn({ err: String(err) }, 'could not record the image use'));
}

export const image: Feature = {
  name: 'image',
  isEnabled: () => true,
  isRequested: () => true,
  requiredScopes(task, config) {
    const { source, value } = sourceOf(task.payload.image);
    return (source as ImageSource<unknown>).requiredScopes(value, task, config);
  },
  async start(run) {
    const { source, value } = sourceOf(run.task.payload.image);
    const resolved = await (source as ImageSource<unknown>).resolve(value, run);
    if (resolved.artifactSha256) run.imageArtifactSha256 = resolved.artifactSha256;
    await recordUse(run, resolved);
    run.liveLog.info(`Image: ${resolved.ref} (${resolved.digest ?? resolved.id})`);
    return { contribution: { image: resolved.id } };
  },
};
