/**
 * @module @docker-worker/testdroid-proxy
 * Requests and releases phones from the Testdroid device cloud for a task, reached as http://testdroid.
 */
export { createApp, type AppDeps } from './app.js';
export { TestdroidClient, type CloudClient, type TestdroidClientOptions } from './cloud/client.js';
export { CloudError } from './cloud/cloud-error.js';
export { findDevices, labelPairs, LABEL_GROUPS } from './cloud/find-devices.js';
export type * from './cloud/types.js';
export { acquireDevice, type AcquireDeps } from './device/acquire.js';
export { signUrl, type SigningCredentials, type TaskclusterCredentials } from './device/bewit.js';
export { systemClock, type Clock } from './device/clock.js';
export { DeviceManager, type DeviceState, type ReleaseResult } from './device/device-manager.js';
export { DEFAULT_ACQUIRE_OPTIONS, type AcquireOptions } from './device/options.js';
export { flattenProperties } from './device/properties.js';
export type { AcquiredDevice, DeviceRequest } from './device/request.js';
export { resolveConfig, ConfigError, ENV, type ProxyConfig, type RawOptions } from './config.js';
export { createLogger, REDACT_PATHS } from './log.js';
export { HttpError } from './errors.js';
export const packageName = '@docker-worker/testdroid-proxy';
