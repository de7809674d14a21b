/**
 * @module @docker-worker/runner
 * The docker-worker task lifecycle over features: `runTask` (the lifecycle), `TaskRun` (the
 * per-run context), the built-in features, `startSidecar` / `launchSidecar` for feature sidecars, and local mode.
 */
export { runTask } from './task-run.js';
export { TaskRun } from './run-context.js';
export type { RunDeps } from './run-context.js';
export { runLocalTask } from './local/run-local.js';
export type { LocalRunOptions, LocalRunResult } from './local/run-local.js';
export { toTaskDefinition, readTaskFile } from './local/task-file.js';
export { builtinFeatures } from './features/index.js';
export * as features from './features/index.js';
export type { Contribution, Credentials, Feature, FeatureRun, Outcome } from './features/feature.js';
export { payloadErrors } from './features/payload.js';
export { launchSidecar, startSidecar } from './docker/sidecar.js';
export { urlForContainers } from './run-network.js';
export { reservedEnv } from './reserved-env.js';
export type { LaunchedSidecar, Sidecar, SidecarOptions } from './docker/sidecar.js';
export { createDockerClient, DockerError } from './docker/docker-client.js';
export type {
  ContainerSpec,
  DockerClient,
  ImageInfo,
  NetworkInfo,
  Resource,
  ResourceKind,
} from './docker/docker-client.js';
export {
  LABEL,
  runLabels,
  removeByLabels,
  removeRun,
  sweepLeftovers,
  processOwner,
} from './docker/labels.js';
export type { Role, RunIdentity } from './docker/labels.js';
export * from './errors.js';
export { systemClock } from './clock.js';
export type { Clock } from './clock.js';
export { buildConfig, loadConfig } from './config.js';
export type { WorkerConfig, WorkerConfigInput } from './config.js';
export { LiveLog } from './live-log-stream.js';
export type { LiveLogSink } from './live-log-stream.js';
export { createLocalSink } from './artifacts/local-sink.js';
export type {
  ArtifactSink,
  ArtifactRecord,
  ArtifactErrorRecord,
  ArtifactErrorReason,
} from './artifacts/sink.js';
export type { TaskDefinition, Payload, ImageRef, ArtifactSpec, PhoneCapability } from './task.js';
export { iptablesFirewall, type HostFirewall } from './docker/host-firewall.js';
