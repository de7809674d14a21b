/**
 * @module services
 * The in-memory state behind the queue, object and index services, and the queue's own client
 * (`static/taskcluster/queue`, scopes `*`), which issues task and upload credentials, and
 * worker-manager's (`static/taskcluster/worker-manager`), which issues worker credentials.
 */
import { randomBytes } from 'node:crypto';
import type { IssuerCredentials } from './auth/issue-credentials.js';
import type { ClientStore } from './clients.js';
import { Faults } from './faults.js';
import { IndexStore } from './index-store.js';
import { PurgeStore } from './purge-store.js';
import { ArtifactStore } from './queue/artifact-store.js';
import { TaskQueue } from './queue/task-queue.js';
import { BlobStore } from './storage/blob-store.js';
import { ObjectStore } from './storage/object-store.js';
import { UrlSigner } from './storage/signed-url.js';
import { WORKER_MANAGER_SCOPES } from './worker-manager/worker-credentials.js';
import { WorkerManager } from './worker-manager/worker-manager.js';

export const QUEUE_CLIENT_ID = 'static/taskcluster/queue';
export const WORKER_MANAGER_CLIENT_ID = 'static/taskcluster/worker-manager';
/** Upstream's default reregistrationTimeout: worker credentials last 96 hours. */
export const DEFAULT_WORKER_CREDENTIALS_TTL_SECONDS = 96 * 60 * 60;

export interface ServicesOptions {
  store: ClientStore;
  now: () => number;
  /** Directory for uploaded bytes (must exist). */
  storageDir: string;
  claimTimeoutSeconds?: number;
  /** Lifetime of the credentials registerWorker/reregisterWorker issue. Default 96 h. */
  workerCredentialsTtlSeconds?: number;
}

export interface Services {
  /** The queue's own client: issues task and upload credentials. */
  issuer: IssuerCredentials;
  queue: TaskQueue;
  artifacts: ArtifactStore;
  objects: ObjectStore;
  blobs: BlobStore;
  signer: UrlSigner;
  index: IndexStore;
  /** The purge-cache service's open requests. */
  purges: PurgeStore;
  faults: Faults;
  workerManager: WorkerManager;
}

export function createServices(o: ServicesOptions): Services {
  const issuer = { clientId: QUEUE_CLIENT_ID, accessToken: randomBytes(33).toString('base64url') };
  o.store.addClient({ ...issuer, scopes: ['*'] });
  const wmIssuer = {
    clientId: WORKER_MANAGER_CLIENT_ID,
    accessToken: randomBytes(33).toString('base64url'),
  };
  o.store.addClient({ ...wmIssuer, scopes: WORKER_MANAGER_SCOPES });
  return {
    issuer,
    queue: new TaskQueue({ now: o.now, claimTimeoutSeconds: o.claimTimeoutSeconds ?? 1200, issuer }),
    artifacts: new ArtifactStore(),
    objects: new ObjectStore(),
    blobs: new BlobStore(o.storageDir),
    signer: new UrlSigner(),
    index: new IndexStore(),
    purges: new PurgeStore(),
    faults: new Faults(),
    workerManager: new WorkerManager({
      issuer: wmIssuer,
      now: o.now,
      credentialsTtlSeconds: o.workerCredentialsTtlSeconds ?? DEFAULT_WORKER_CREDENTIALS_TTL_SECONDS,
    }),
  };
}
