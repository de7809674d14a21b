/**
 * @module features/capabilities
 * payload.capabilities: privileged mode and host devices. Each needs the worker config to allow
 * it AND a scope (`docker-worker:capability:privileged`, `docker-worker:capability:device:<name>`).
 * Host devices are the names set to `true`; a device described by an object (testdroidProxy's
 * `phone`) belongs to the feature that owns that key.
 */
import { malformedPayload } from '../errors.js';
import type { TaskDefinition } from '../task.js';
import type { Feature } from './feature.js';

/** Host devices a task asks for (names under payload.capabilities.devices set to true). */
export function requestedDevices(task: TaskDefinition): string[] {
  const devices = task.payload.capabilities?.devices ?? {};
  return Object.entries(devices)
    .filter(([, value]) => value === true)
    .map(([name]) => name);
}

export const capabilities: Feature = {
  name: 'capabilities',
  isEnabled: () => true,
  isRequested: (task) => task.payload.capabilities?.privileged === true || requestedDevices(task).length > 0,
  requiredScopes(task) {
    const scopes = requestedDevices(task).map((d) => `docker-worker:capability:device:${d}`);
    if (task.payload.capabilities?.privileged) scopes.unshift('docker-worker:capability:privileged');
    return [scopes];
  },
  async start(run) {
    const privileged = run.task.payload.capabilities?.privileged === true;
    if (privileged && !run.config.capabilities.privileged) {
      throw malformedPayload(
        'payload.capabilities.privileged is not allowed on this worker (worker config capabilities.privileged is false); remove it or use a worker pool that allows it',
      );
    }
    const devices: string[] = [];
    for (const name of requestedDevices(run.task)) {
      const path = run.config.capabilities.devices.find(
        (d) => d === name || d.endsWith(`/${name}`) || d.startsWith(`/dev/${name}:`),
      );
      if (!path) {
        throw malformedPayload(
          `device "${name}" is not allowed on this worker (worker config capabilities.devices: [${run.config.capabilities.devices.join(', ')}]); remove it from payload.capabilities.devices`,
        );
      }
      devices.push(path.startsWith('/') ? path : `/dev/${path}`);
    }
    return { contribution: { privileged, devices } };
  },
};
