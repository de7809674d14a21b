/**
 * @module @docker-worker/fake-taskcluster/testing
 * A worker-runner stand-in for tests: registers a static worker with fake-taskcluster's
 * worker-manager, starts the worker and speaks worker-runner's protocol with it.
 */
export { WorkerRunner, startWorkerRunner } from './worker-runner.js';
export type { WorkerRunnerOptions } from './worker-runner.js';
export { RUNNER_CAPABILITIES, encodeMessage, parseLine } from './worker-protocol.js';
export type { ProtocolMessage } from './worker-protocol.js';
export { genericWorkerConfig, mergeConfig } from './worker-config.js';
export type { JsonObject, WorkerConfigInput } from './worker-config.js';
