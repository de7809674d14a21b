/**
 * @module services
 * The in-memory state behind the queue, object and index services, and the queue's own client
 * (`static/taskcluster/queue`, scopes `*`), which issues task and upload credentials.
 */
import { randomBytes } from 'node:crypto';
import type { IssuerCredentials } from './auth/issue-credentials.js';
import type { ClientStore } from './clients.js';
import { Faults } from './faults.js';
import { IndexStore } from './index-store.js';
import { ArtifactStore } from './queue/artifact-store.js';
import { TaskQueue } from './queue/task-queue.js';
import { BlobStore } from './storage/blob-store.js';
import { ObjectStore } from './storage/object-store.js';
import { UrlSigner } from './storage/signed-url.js';

export const QUEUE_CLIENT_ID = 'static/taskcluster/queue';

export interface ServicesOptions {
  store: ClientStore;
  now: () => number;
  /** Directory for uploaded bytes (must exist). */
  storageDir: string;
  claimTimeoutSeconds?: number;
}

export interface Services {
  issuer: IssuerCredentials;
  queue: TaskQueue;
  artifacts: ArtifactStore;
  objects: ObjectStore;
  blobs: BlobStore;
  signer: UrlSigner;
  index: IndexStore;
  faults: Faults;
}

export function createServices(o: ServicesOptions): Services {
  const issuer = { clientId: QUEUE_CLIENT_ID, accessToken: randomBytes(33).toString('base64url') };
  o.store.addClient({ ...issuer, scopes: ['*'] });
  return {
    issuer,
    queue: new TaskQueue({ now: o.now, claimTimeoutSeconds: o.claimTimeoutSeconds ?? 1200, issuer }),
    artifacts: new ArtifactStore(),
    objects: new ObjectStore(),
    blobs: new BlobStore(o.storageDir),
    signer: new UrlSigner(),
    index: new IndexStore(),
    faults: new Faults(),
  };
}
