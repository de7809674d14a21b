/**
 * @module features/capabilities
 * payload.capabilities, as the last docker-worker: `privileged`, `disableSeccomp` and host
 * `devices` (loopbackVideo, loopbackAudio, hostSharedMemory, kvm). Each needs the worker config to
 * allow it (capabilities.privileged or dockerConfig.allowPrivileged, capabilities.disableSeccomp,
 * deviceManagement.<name>.enabled) AND a scope, `docker-worker:capability:<x>` or
 * `docker-worker:capability:<x>:<workerPoolId>`. Devices come from the worker's allocator
 * (`devices/`): an exclusive one is held by this run until it stops. Under restrictCPU every run
 * also gets one core. The seed's `devices.phone` belongs to the testdroid proxy.
 */
import type { DeviceKind } from '../config.js';
import { DEVICE_KINDS, devicesFor } from '../devices/index.js';
import { malformedPayload } from '../errors.js';
import type { TaskDefinition } from '../task.js';
import type { Feature } from './feature.js';
import { assertPoolScopes } from './scope-forms.js';

/** Host devices a task asks for (the named kinds set to true). */
export function requestedDevices(task: TaskDefinition): DeviceKind[] {
  const devices = task.payload.capabilities?.devices ?? {};
  return DEVICE_KINDS.filter((kind) => devices[kind] === true);
}

const PREFIX = 'docker-worker:capability:';

export const capabilities: Feature = {
  name: 'capabilities',
  isEnabled: () => true,
  // Always: under restrictCPU every run takes a core.
  isRequested: () => true,
  async start(run) {
    const { task, config } = run;
    const caps = task.payload.capabilities ?? {};
    const privileged = caps.privileged === true;
    const seccompOff = caps.disableSeccomp === true;
    const kinds = requestedDevices(task);
    const scopes = [
      ...(privileged ? [`${PREFIX}privileged`] : []),
      ...(seccompOff ? [`${PREFIX}disableSeccomp`] : []),
      ...kinds.map((k) => `${PREFIX}device:${k}`),
    ];
    // Roles are expanded (an auth call) only when there is something to check.
    if (scopes.length > 0)
      assertPoolScopes(await run.grantScopes(), scopes, config.taskQueueId, "'capabilities'");
    const problems: string[] = [];
    if (privileged && !config.capabilities.privileged)
      problems.push(
        'payload.capabilities.privileged is not allowed on this worker (worker config capabilities.privileged / dockerConfig.allowPrivileged is false)',
      );
    if (seccompOff && !config.capabilities.disableSeccomp)
      problems.push(
        'payload.capabilities.disableSeccomp is not allowed on this worker (worker config capabilities.disableSeccomp is false)',
      );
    const allocator = devicesFor(config);
    problems.push(...allocator.problems(kinds));
    if (problems.length > 0)
      throw malformedPayload(
        `${problems.join('; ')}; remove it from the payload or use a worker pool that allows it`,
      );
    const lease = await allocator.acquire(kinds, run.signal);
    for (const unit of lease.units)
      if (unit.devices.length + unit.binds.length > 0) run.liveLog.info(`using device ${unit.id}`);
    const cpuset = lease.units.find((u) => u.cpuset !== undefined)?.cpuset;
    return {
      contribution: {
        privileged,
        devices: lease.units.flatMap((u) => u.devices),
        binds: lease.units.flatMap((u) => u.binds),
        ...(seccompOff ? { securityOpt: ['seccomp=unconfined'] } : {}),
        ...(cpuset !== undefined ? { cpusetCpus: cpuset } : {}),
      },
      stop: async () => lease.release(),
    };
  },
};
