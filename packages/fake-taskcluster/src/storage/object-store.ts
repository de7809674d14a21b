/**
 * @module storage/object-store
 * The object service's records: an object is created for upload with an uploadId (idempotent for
 * the same projectId, uploadId and expires while the upload is open), collects hashes that can
 * never change, and is finished once; its data lives in the BlobStore under `object/<name>`.
 */
import { HttpError } from '../errors.js';

export interface StoredObject {
  name: string;
  projectId: string;
  /** null once finished (as upstream's `upload_id`). */
  uploadId: string | null;
  expires: string;
  hashes: Record<string, string>;
}

export function objectBlobKey(name: string): string {
  return `object/${name}`;
}

export class ObjectStore {
  private readonly objects = new Map<string, StoredObject>();

  get(name: string): StoredObject | undefined {
    return this.objects.get(name);
  }

  /** The finished object, else 404 (as `object`, `startDownload`). */
  finished(name: string): StoredObject {
    const object = this.objects.get(name);
    if (!object || object.uploadId !== null)
      throw new HttpError(404, `Object "${name}" not found`, 'ResourceNotFound');
    return object;
  }

  createForUpload(name: string, projectId: string, uploadId: string, expires: string): StoredObject {
    const existing = this.objects.get(name);
    if (existing) {
      const same =
        existing.projectId === projectId &&
        existing.uploadId === uploadId &&
        Date.parse(existing.expires) === Date.parse(expires);
      if (!same) throw new HttpError(409, 'Object already exists', 'RequestConflict');
      return existing;
    }
    const object: StoredObject = {
      name,
      projectId,
      uploadId,
      expires: new Date(expires).toJSON(),
      hashes: {},
    };
    this.objects.set(name, object);
    return object;
  }

  /** Adds hashes; an algorithm already present with another value is a conflict. */
  addHashes(object: StoredObject, hashes: Record<string, unknown> | undefined): void {
    const entries = Object.entries(hashes ?? {}).map(([algo, hash]) => [algo, String(hash)] as const);
    for (const [algo, hash] of entries) {
      const known = object.hashes[algo];
      if (known !== undefined && known !== hash)
        throw new HttpError(409, 'Content hash already exists with a different value', 'RequestConflict');
    }
    for (const [algo, hash] of entries) object.hashes[algo] = hash;
  }
}
