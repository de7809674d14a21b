/**
 * @module @docker-worker/taskcluster-proxy
 * Scope-limited Taskcluster credential signing proxy, reached by tasks as http://taskcluster.
 */
export { createHandler, DEFAULT_IDENTITY } from './app.js';
export { createApp } from './control-app.js';
export type { ProxyDeps } from './app.js';
export { startTaskclusterProxy } from './server.js';
export type { ListenOptions, RunningProxy } from './server.js';
export { CredentialStore, CredentialsError, parseCredentials } from './credentials.js';
export type { Credentials, CredentialsInput } from './credentials.js';
export { mapRequest, apiTarget } from './routing.js';
export type { Route, Target } from './routing.js';
export { authorizationHeader, signedUrl, ext } from './signing.js';
export { DEFAULT_RETRY, DEFAULT_UPSTREAM_TIMEOUT_MS } from './forward.js';
export type { RetryOptions } from './forward.js';
