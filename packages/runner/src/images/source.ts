/**
 * @module images/source
 * The one interface every image source implements (a registry name, a task's artifact, an indexed
 * task's artifact): the scopes a task needs for it, and `resolve`, which makes the image present
 * on the engine and says which image id the task container runs. features/image.ts dispatches.
 */
import { createHash } from 'node:crypto';
import type { WorkerConfig } from '../config.js';
import type { TaskRun } from '../run-context.js';
import type { TaskDefinition } from '../task.js';

export interface ResolvedImage {
  /** The engine's image id (`sha256:...`): what the container runs, never a mutable tag. */
  id: string;
  /** What the header names: the image name, or the task image's reserved name. */
  ref: string;
  /** `repo@sha256:...` when the image came from a registry and the engine knows its digest. */
  digest?: string;
  /** Whether it was on the engine already (nothing pulled or loaded for this task). */
  reused: boolean;
  /** Set when this worker pulled or loaded it (now or earlier): the image GC may remove it. */
  source?: 'pull' | 'load';
  /**
   * The sha256 (hex) of the artifact it was loaded from (task-image, indexed-image): measured
   * while it downloaded, or remembered from that load when the image is reused.
   */
  artifactSha256?: string;
}

export interface ImageSource<Ref> {
  /** Any-of (outer) all-of (inner) scope sets the task needs for `ref`. */
  requiredScopes(ref: Ref, task: TaskDefinition, config: WorkerConfig): string[][];
  resolve(ref: Ref, run: TaskRun): Promise<ResolvedImage>;
}

/**
 * The repository of images loaded from task artifacts. No task may name an image starting with
 * it (the payload check refuses it), so its tags can only be ones this worker made.
 */
export const TASK_IMAGE_REPO = 'docker-worker-task-image';

/** `docker-worker-task-image:<sha256 of the deployment, task id and artifact path>`. */
export function taskImageName(rootUrl: string, taskId: string, path: string): string {
  const key = createHash('sha256').update(`${rootUrl}\n${taskId}\n${path}`).digest('hex');
  return `${TASK_IMAGE_REPO}:${key}`;
}

/** Whether a payload's image name uses the reserved repository (refused: malformed-payload). */
export const isReservedImageName = (name: string): boolean =>
  name.replace(/^(docker\.io\/)?(library\/)?/, '').startsWith(TASK_IMAGE_REPO);
