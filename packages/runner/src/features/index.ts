/**
 * @module features
 * The ordered list of built-in features: the order is the contract. Stops run in reverse.
 *
 * - liveLog is first so every later line lands in the log, and last to stop so it writes the
 *   footer and stores the backing log after everything else.
 * - payload validates before anything reads the payload.
 * - env, then encryptedEnv (it merges decrypted variables over payload.env; reserved win).
 * - image, caches, capabilities (privileged, seccomp, devices), allowPtrace: the container's
 *   image, volumes, devices and capabilities; bulkLog only checks it is allowed (the live log
 *   stores it).
 * - taskclusterProxy, balrogVPNProxy, testdroidProxy: sidecars on the task network, each also
 *   giving the task container its `alias:ip` hosts entry.
 * - artifacts stops right after the container ends (before the sidecars go); chainOfTrust sits
 *   just before it, so its stop runs after theirs and signs what they uploaded.
 * - interactive wraps the command (after env set it) and serves the shell while the task runs.
 * - maxRunTime is last to start, so its timer starts just before the container.
 */
import { allowPtrace } from './allow-ptrace.js';
import { artifacts } from './artifacts.js';
import { balrogVPNProxy } from './balrog-vpn-proxy.js';
import { bulkLog } from './bulk-log.js';
import { cache } from './caches.js';
import { chainOfTrust } from './chain-of-trust.js';
import { capabilities } from './capabilities.js';
import { encryptedEnv } from './encrypted-env.js';
import { env } from './env.js';
import type { Feature } from './feature.js';
import { image } from './image.js';
import { interactive } from './interactive/feature.js';
import { liveLog } from './live-log.js';
import { maxRunTime } from './max-run-time.js';
import { payload } from './payload.js';
import { taskclusterProxy } from './taskcluster-proxy.js';
import { testdroidProxy } from './testdroid-proxy.js';

export const builtinFeatures: readonly Feature[] = [
  liveLog,
  payload,
  env,
  encryptedEnv,
  image,
  cache,
  capabilities,
  allowPtrace,
  bulkLog,
  taskclusterProxy,
  balrogVPNProxy,
  testdroidProxy,
  interactive,
  chainOfTrust,
  artifacts,
  maxRunTime,
];

export {
  allowPtrace,
  artifacts,
  balrogVPNProxy,
  bulkLog,
  cache,
  chainOfTrust,
  capabilities,
  encryptedEnv,
  env,
  image,
  interactive,
  liveLog,
  maxRunTime,
  payload,
  taskclusterProxy,
  testdroidProxy,
};
export type { Contribution, Credentials, Feature, FeatureRun, Outcome, TaskRun } from './feature.js';
