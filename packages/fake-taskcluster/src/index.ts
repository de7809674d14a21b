/**
 * @module @docker-worker/fake-taskcluster
 * A faithful local stand-in for Taskcluster for tests: Hawk, bewits, temporary credentials,
 * authorizedScopes and roles checked as Taskcluster's auth service does.
 */
export { startFakeTaskcluster } from './server.js';
export type { FakeTaskcluster, FakeTaskclusterOptions, WorkerManagerHandle } from './server.js';
export { staticSecret } from './worker-manager/worker-manager.js';
export type {
  Registration,
  StaticWorkerSpec,
  WorkerPoolSpec,
  WorkerRecord,
  WorkerState,
} from './worker-manager/worker-manager.js';
export { workerScopes } from './worker-manager/worker-credentials.js';
export { createApp } from './app.js';
export type { FakeTaskclusterDeps, RecordedRequest } from './app.js';
export { ClientStore } from './clients.js';
export { TaskStore } from './tasks.js';
export type { TaskDefinition } from './tasks.js';
export type { ClientSpec } from './clients.js';
export type { RoleSpec } from './auth/scopes.js';
export { expandScopes, normalizeScopes } from './auth/scopes.js';
export type { AuthResult, AuthScheme } from './auth/authenticate.js';
export { certificateSignatureString, temporaryAccessToken } from './auth/certificate.js';
export { HttpError } from './errors.js';
export { blobStream, blobSha256 } from './blob.js';
