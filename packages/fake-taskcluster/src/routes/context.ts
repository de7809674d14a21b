/**
 * @module routes/context
 * What every route module receives from `createApp`.
 */
import type { IssuerCredentials } from '../auth/issue-credentials.js';
import type { Endpoint } from '../auth/require-scopes.js';
import type { ClientStore } from '../clients.js';
import type { IndexStore } from '../index-store.js';
import type { ArtifactStore } from '../queue/artifact-store.js';
import type { TaskQueue } from '../queue/task-queue.js';
import type { BlobStore } from '../storage/blob-store.js';
import type { ObjectStore } from '../storage/object-store.js';
import type { UrlSigner } from '../storage/signed-url.js';
import type { TaskStore } from '../tasks.js';
import type { WorkerManager } from '../worker-manager/worker-manager.js';

export interface RouteContext {
  endpoint: Endpoint;
  store: ClientStore;
  tasks: TaskStore;
  now: () => number;
  queue: TaskQueue;
  artifacts: ArtifactStore;
  objects: ObjectStore;
  blobs: BlobStore;
  signer: UrlSigner;
  index: IndexStore;
  workerManager: WorkerManager;
  /** The queue's own client: issues task and upload credentials. */
  issuer: IssuerCredentials;
  /** Treat `queue:get-artifact:public/*` as held by everyone (a deployment's anonymous role). */
  publicArtifacts: boolean;
  claimWorkWaitMs: number;
}
