// The parts of taskcluster-client 87 the tests use (it ships no types).
declare module 'taskcluster-client' {
  import type { Readable, Writable } from 'node:stream';

  export interface Credentials {
    clientId: string;
    accessToken: string;
    certificate?: string | Record<string, unknown>;
  }
  export interface ClientOptions {
    rootUrl: string;
    credentials?: Credentials;
    authorizedScopes?: string[];
    retries?: number;
  }
  export interface TemporaryCredentialsOptions {
    credentials: Credentials;
    scopes: string[];
    start?: Date;
    expiry: Date;
    clientId?: string;
  }
  export function createTemporaryCredentials(options: TemporaryCredentialsOptions): {
    clientId: string;
    accessToken: string;
    certificate: string;
  };
  export interface Run {
    runId: number;
    state: string;
    reasonCreated: string;
    reasonResolved?: string;
    workerGroup?: string;
    workerId?: string;
    takenUntil?: string;
  }
  export interface TaskStatus {
    taskId: string;
    state: string;
    retriesLeft: number;
    runs: Run[];
  }
  export interface Claim {
    status: TaskStatus;
    runId: number;
    workerGroup: string;
    workerId: string;
    takenUntil: string;
    task: Record<string, unknown> & { scopes: string[] };
    credentials: Credentials & { certificate: string };
  }
  export type Json = Record<string, unknown>;
  export class Auth {
    constructor(options: ClientOptions);
    currentScopes(): Promise<{ scopes: string[]; clientId?: string }>;
    expandScopes(body: { scopes: string[] }): Promise<{ scopes: string[] }>;
    buildSignedUrl(method: unknown, ...args: unknown[]): string;
  }
  export class Queue {
    constructor(options: ClientOptions);
    ping(): Promise<{ alive: boolean }>;
    task(taskId: string): Promise<Json & { scopes: string[] }>;
    createTask(taskId: string, task: Json): Promise<{ status: TaskStatus }>;
    status(taskId: string): Promise<{ status: TaskStatus }>;
    cancelTask(taskId: string): Promise<{ status: TaskStatus }>;
    claimWork(taskQueueId: string, body: Json): Promise<{ tasks: Claim[] }>;
    reclaimTask(taskId: string, runId: number): Promise<Omit<Claim, 'task'>>;
    reportCompleted(taskId: string, runId: number): Promise<{ status: TaskStatus }>;
    reportFailed(taskId: string, runId: number): Promise<{ status: TaskStatus }>;
    reportException(taskId: string, runId: number, body: Json): Promise<{ status: TaskStatus }>;
    createArtifact(taskId: string, runId: number, name: string, body: Json): Promise<Json>;
    finishArtifact(taskId: string, runId: number, name: string, body: Json): Promise<undefined>;
    listArtifacts(
      taskId: string,
      runId: number,
      query?: Json,
    ): Promise<{ artifacts: Json[]; continuationToken?: string }>;
    artifactInfo(taskId: string, runId: number, name: string): Promise<Json>;
    getArtifact: unknown;
    getLatestArtifact: unknown;
    buildUrl(method: unknown, ...args: unknown[]): string;
    buildSignedUrl(method: unknown, ...args: unknown[]): string;
  }
  export class Object {
    constructor(options: ClientOptions);
    createUpload(name: string, body: Json): Promise<Json & { uploadMethod: Json }>;
    finishUpload(name: string, body: Json): Promise<Json>;
    startDownload(name: string, body: Json): Promise<Json>;
    object(name: string): Promise<{ projectId: string; expires: string; hashes: Record<string, string> }>;
  }
  export class Index {
    constructor(options: ClientOptions);
    findTask(
      namespace: string,
    ): Promise<{ namespace: string; taskId: string; rank: number; data: Json; expires: string }>;
    insertTask(namespace: string, body: Json): Promise<{ namespace: string; taskId: string; rank: number }>;
  }
  export class PurgeCache {
    constructor(options: ClientOptions);
    purgeCache(workerPoolId: string, body: { cacheName: string }): Promise<Json>;
    purgeRequests(
      workerPoolId: string,
      query?: { since?: string },
    ): Promise<{
      requests: { provisionerId: string; workerType: string; cacheName: string; before: string }[];
    }>;
  }
  export interface WorkerCredentialsResponse {
    expires: string;
    credentials: { clientId: string; accessToken: string; certificate?: string };
    secret: string;
  }
  export class WorkerManager {
    constructor(options: ClientOptions);
    registerWorker(body: Json): Promise<WorkerCredentialsResponse & { workerConfig: Json }>;
    reregisterWorker(body: Json): Promise<WorkerCredentialsResponse>;
    removeWorker(workerPoolId: string, workerGroup: string, workerId: string): Promise<Json>;
    listWorkersForWorkerPool(
      workerPoolId: string,
      query?: Json,
    ): Promise<{ workers: Json[]; continuationToken?: string }>;
  }
  export interface UploadOptions {
    projectId: string;
    name: string;
    contentType: string;
    contentLength: number;
    expires: Date;
    object: Object;
    streamFactory: () => Promise<Readable> | Readable;
    uploadId?: string;
    retries?: number;
  }
  export function upload(options: UploadOptions): Promise<void>;
  export function downloadArtifact(options: {
    taskId: string;
    runId?: number;
    name: string;
    queue: Queue;
    streamFactory: () => Promise<Writable> | Writable;
    retries?: number;
  }): Promise<string>;
  const taskcluster: {
    createTemporaryCredentials: typeof createTemporaryCredentials;
    Auth: typeof Auth;
    Queue: typeof Queue;
    Object: typeof Object;
    Index: typeof Index;
    PurgeCache: typeof PurgeCache;
    WorkerManager: typeof WorkerManager;
    upload: typeof upload;
    downloadArtifact: typeof downloadArtifact;
    slugid(): string;
  };
  export default taskcluster;
}
