/**
 * @module gc/free-space
 * Free bytes on the engine's data root (`docker info` → DockerRootDir), what the claim loop's
 * disk check and the image GC compare with `capacityManagement.diskspaceThreshold`.
 */
import { statfs } from 'node:fs/promises';
import type { DockerClient } from '../docker/docker-client.js';

/** Bytes an unprivileged writer can still use on the file system of `path`. */
export async function statfsFree(path: string): Promise<number> {
  const s = await statfs(path);
  return s.bavail * s.bsize;
}

/** Free bytes of the engine's data root, measured anew at each call. */
export function dataRootFree(
  docker: Pick<DockerClient, 'dataRoot'>,
  freeBytes: (path: string) => Promise<number> = statfsFree,
): () => Promise<number> {
  return async () => freeBytes(await docker.dataRoot());
}
