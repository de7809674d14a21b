/**
 * @module queue/artifact-store
 * Artifact records by task, run and name, and the queue's re-creation rule
 * (`createArtifactCallsCompatible` upstream): same content type except for links, `expires` may
 * grow but never shrink, same storage type and details, except that `reference` details may change
 * and a `link` may replace a `reference`.
 */
import { isDeepStrictEqual } from 'node:util';

export type StorageType = 's3' | 'object' | 'reference' | 'link' | 'error';

export interface Artifact {
  taskId: string;
  runId: number;
  name: string;
  storageType: StorageType;
  contentType: string;
  expires: string;
  details: Record<string, unknown>;
  /** `object` artifacts become present with finishArtifact; all others at once. */
  present: boolean;
}

export function compatible(original: Artifact, next: Artifact): boolean {
  if (next.storageType !== 'link' && original.contentType !== next.contentType) return false;
  if (Date.parse(original.expires) > Date.parse(next.expires)) return false;
  if (original.storageType === next.storageType)
    return next.storageType === 'reference' || isDeepStrictEqual(original.details, next.details);
  return original.storageType === 'reference' && next.storageType === 'link';
}

/** The fields listArtifacts and artifactInfo show. */
export function serializeArtifact(a: Artifact): {
  storageType: string;
  name: string;
  expires: string;
  contentType: string;
} {
  return { storageType: a.storageType, name: a.name, expires: a.expires, contentType: a.contentType };
}

export class ArtifactStore {
  private readonly artifacts = new Map<string, Artifact>();

  private static key(taskId: string, runId: number, name: string): string {
    return JSON.stringify([taskId, runId, name]);
  }

  get(taskId: string, runId: number, name: string): Artifact | undefined {
    return this.artifacts.get(ArtifactStore.key(taskId, runId, name));
  }

  put(artifact: Artifact): void {
    this.artifacts.set(ArtifactStore.key(artifact.taskId, artifact.runId, artifact.name), artifact);
  }

  /** Every artifact of a run (present or not), sorted by name. */
  list(taskId: string, runId: number): Artifact[] {
    return [...this.artifacts.values()]
      .filter((a) => a.taskId === taskId && a.runId === runId)
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }
}
