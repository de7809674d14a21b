/**
 * @module device/flash
 * The flash path (PROTOCOLS.md §7.3 c): a run of the flash project on one device that matches the
 * request without its build, with FLAME_ZIP_URL (the signed build), MEM_TOTAL and BUILD_LABEL;
 * polled until FINISHED, then the device is polled until it is online and unlocked again.
 */
import { findDevices } from '../cloud/find-devices.js';
import type { Device } from '../cloud/types.js';
import type { FlowContext } from './flow-context.js';
import type { DeviceRequest } from './request.js';

export async function flashDevice(
  ctx: FlowContext,
  request: DeviceRequest,
  signedBuild: string,
): Promise<Device> {
  const { cloud, clock, options, signal, log } = ctx;
  const { build: _build, memory: _memory, ...flashFilter } = request;
  const caps = JSON.stringify(flashFilter);
  const buildLabel = `${request.memory}_${request.build}`;

  const devices = await findDevices(cloud, flashFilter);
  if (devices.length === 0) throw new Error(`Could not find device with capabilities: ${caps}`);
  const available = devices.filter((d) => d.online === true && d.locked === false);
  if (available.length === 0) {
    throw new Error(
      `Found ${devices.length} device(s) for flashing with desired capabilities but none were online and unlocked. Capabilities: ${caps}`,
    );
  }
  const device = available[Math.floor(ctx.random() * available.length)] as Device;

  const project = await cloud.getProject(options.flashProject);
  if (!project)
    throw new Error(
      `The Testdroid cloud has no project named "${options.flashProject}" to flash devices with`,
    );
  const run = await cloud.createRun(project.id);
  await cloud.getRunConfig(project.id, run.id);
  for (const p of await cloud.getRunParameters(run.id))
    await cloud.deleteRunParameter(project.id, run.id, p.id);
  await cloud.addRunParameter(project.id, run.id, 'FLAME_ZIP_URL', signedBuild);
  await cloud.addRunParameter(project.id, run.id, 'MEM_TOTAL', request.memory);
  await cloud.addRunParameter(project.id, run.id, 'BUILD_LABEL', buildLabel);
  await cloud.startRun(run.id, [device.id]);
  log.info({ runId: run.id, deviceId: device.id, buildLabel }, 'flash run started');

  const deadline = clock.now() + options.flashDeadlineMs;
  for (;;) {
    const state = (await cloud.getRun(project.id, run.id)).state;
    if (state === 'FINISHED') break;
    if (clock.now() >= deadline) {
      if (state === 'WAITING') await cloud.abortRun(run.id);
      const minutes = Math.round(options.flashDeadlineMs / 60_000);
      throw new Error(
        `Flash project aborted because it exceeded ${minutes} minutes. Flash Run State: ${state}`,
      );
    }
    await clock.sleep(options.flashPollMs, signal);
  }

  const failed = (await cloud.getDeviceRuns(run.id)).filter((r) => r.runStatus === 'FAILED');
  if (failed.length > 0) {
    throw new Error(
      `Flashing device ${device.displayName} (id ${device.id}) failed; check that the build URL points at a flashable build the device can download`,
    );
  }

  for (;;) {
    const now = (await findDevices(cloud, flashFilter)).find((d) => d.id === device.id);
    if (now && now.online === true && now.locked === false) return now;
    if (clock.now() >= deadline) {
      throw new Error(
        `Flashed device ${device.displayName} (id ${device.id}) did not come back online and unlocked in time`,
      );
    }
    await clock.sleep(options.deviceOnlinePollMs, signal);
  }
}
