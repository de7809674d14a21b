/**
 * @module worker/taskcluster
 * The parts of taskcluster-client the worker calls, in our own types (the package ships none),
 * and the factories that build real clients. Loaded on first use: local runs never pay for it.
 * Our own retry policy (`retry.ts`) is the only one, so the clients are made with `retries: 0`.
 */
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { Readable } from 'node:stream';
import type { Credentials } from '../features/feature.js';

export interface TaskCredentials extends Credentials {
  certificate: string;
}

/** One claimed run as `claimWork` answers it. */
export interface Claim {
  status: { taskId: string; retriesLeft?: number; [key: string]: unknown };
  runId: number;
  workerGroup: string;
  workerId: string;
  takenUntil: string;
  task: Record<string, unknown>;
  credentials: TaskCredentials;
}

export interface Reclaim {
  runId: number;
  takenUntil: string;
  credentials: TaskCredentials;
}

export type CreateArtifactRequest =
  | { storageType: 'object' | 's3'; expires: string; contentType: string; contentLength?: number }
  | { storageType: 'reference'; expires: string; contentType: string; url: string }
  | { storageType: 'link'; expires: string; contentType?: string; artifact: string }
  | { storageType: 'error'; expires: string; reason: string; message: string };

export interface CreateArtifactResponse {
  storageType: string;
  /** s3 */
  putUrl?: string;
  /** object */
  name?: string;
  projectId?: string;
  uploadId?: string;
  expires?: string;
  credentials?: Credentials;
}

/** The queue methods the worker calls; a taskcluster-client `Queue` satisfies it. */
export interface QueueClient {
  claimWork(
    taskQueueId: string,
    body: { workerGroup: string; workerId: string; tasks: number },
  ): Promise<{ tasks: Claim[] }>;
  reclaimTask(taskId: string, runId: string): Promise<Reclaim>;
  reportCompleted(taskId: string, runId: string): Promise<unknown>;
  reportFailed(taskId: string, runId: string): Promise<unknown>;
  reportException(taskId: string, runId: string, body: { reason: string }): Promise<unknown>;
  createArtifact(
    taskId: string,
    runId: string,
    name: string,
    body: CreateArtifactRequest,
  ): Promise<CreateArtifactResponse>;
  finishArtifact(taskId: string, runId: string, name: string, body: { uploadId: string }): Promise<unknown>;
}

export interface ObjectUpload {
  /** The object name the queue chose (`t/<taskId>/<runId>/<artifact>`). */
  name: string;
  projectId: string;
  uploadId: string;
  expires: Date;
  contentType: string;
  contentLength: number;
  /** The upload credentials from createArtifact (scope object:upload:<projectId>:<name>). */
  credentials: Credentials;
  /** A fresh stream of the bytes for each attempt. */
  streamFactory: () => Promise<Readable>;
}

/** Builds the real clients for one root URL. */
/** An open request of the purge-cache service: caches `cacheName` made before `before` are to go. */
export interface PurgeRequest {
  cacheName: string;
  before: string;
}

export interface TaskclusterClients {
  queue(credentials: Credentials): QueueClient;
  /** The auth service's expandScopes (`auth:expand-scopes`): `scopes` with every role they assume. */
  expandScopes?(credentials: Credentials, scopes: string[]): Promise<string[]>;
  /** The purge-cache service's open requests for a worker pool, made since `since` (all when absent). */
  purgeRequests?(credentials: Credentials, workerPoolId: string, since?: string): Promise<PurgeRequest[]>;
  /** The object service upload (createUpload, PUT with retries on the same URL, finishUpload with hashes). */
  uploadObject(upload: ObjectUpload): Promise<void>;
  /** `queue.buildUrl(getArtifact, ...)`: where a queue artifact is read. */
  artifactUrl(taskId: string, runId: number, name: string): string;
}

interface TaskclusterModule {
  Queue: new (options: Record<string, unknown>) => QueueClient & {
    buildUrl(method: unknown, ...args: unknown[]): string;
    getArtifact: unknown;
  };
  Object: new (options: Record<string, unknown>) => unknown;
  Auth: new (options: Record<string, unknown>) => {
    expandScopes(body: { scopes: string[] }): Promise<{ scopes: string[] }>;
  };
  PurgeCache: new (options: Record<string, unknown>) => {
    purgeRequests(workerPoolId: string, query: { since?: string }): Promise<{ requests: PurgeRequest[] }>;
  };
  upload(options: Record<string, unknown>): Promise<unknown>;
}

// A string, not a literal: the package has no types, and this module gives it ours.
const MODULE: string = 'taskcluster-client';

/**
 * Connections to the Taskcluster services are kept alive. taskcluster-client's own agents close
 * each connection after its request, so every call paid a new TCP connection (a TLS handshake in
 * production): ~0.2 ms of CPU on each side on loopback, a round trip or more over the network.
 * taskcluster-client reads a client's agents from `_httpAgent` for each request and would make new
 * ones per client from its `agent` option (a client is made per call here, with the credentials
 * of the moment), so the clients are given one shared pair instead; worker/taskcluster.test.ts
 * checks that consecutive calls share a connection.
 */
function keepAlive<T>(client: T, agents: { http: HttpAgent; https: HttpsAgent }): T {
  (client as unknown as { _httpAgent: unknown })._httpAgent = agents;
  return client;
}

export async function taskclusterClients(rootUrl: string): Promise<TaskclusterClients> {
  const mod = (await import(MODULE)) as { default?: TaskclusterModule } & TaskclusterModule;
  const tc = mod.default ?? mod;
  const agents = {
    http: new HttpAgent({ keepAlive: true, maxSockets: 50, scheduling: 'lifo' }),
    https: new HttpsAgent({ keepAlive: true, maxSockets: 50, scheduling: 'lifo' }),
  };
  const anonymous = new tc.Queue({ rootUrl, retries: 0 });
  const queue = (credentials: Credentials): QueueClient =>
    keepAlive(new tc.Queue({ rootUrl, credentials, retries: 0 }), agents);
  return {
    queue,
    async expandScopes(credentials, scopes) {
      const auth = keepAlive(new tc.Auth({ rootUrl, credentials, retries: 0 }), agents);
      return (await auth.expandScopes({ scopes })).scopes;
    },
    async purgeRequests(credentials, workerPoolId, since) {
      const purge = keepAlive(new tc.PurgeCache({ rootUrl, credentials, retries: 0 }), agents);
      return (await purge.purgeRequests(workerPoolId, since ? { since } : {})).requests;
    },
    async uploadObject(u) {
      const object = keepAlive(new tc.Object({ rootUrl, credentials: u.credentials, retries: 0 }), agents);
      await tc.upload({
        projectId: u.projectId,
        name: u.name,
        contentType: u.contentType,
        contentLength: u.contentLength,
        expires: u.expires,
        object,
        streamFactory: u.streamFactory,
        uploadId: u.uploadId,
        retries: 5,
      });
    },
    artifactUrl: (taskId, runId, name) => anonymous.buildUrl(anonymous.getArtifact, taskId, runId, name),
  };
}
