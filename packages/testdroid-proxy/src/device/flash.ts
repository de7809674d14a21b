/**
 * @module device/flash
 * The flash path (PROTOCOLS.md §7.3 c): a run of the flash project on one device that matches the
 * request without its build, with FLAME_ZIP_URL (the signed build), MEM_TOTAL and BUILD_LABEL;
 * polled until FINISHED, then the device is polled until it is online and unlocked again.
 *
 * The run's POSTs are not safe to repeat blindly: after a 5xx or a lost answer (`CloudError.unsure`)
 * the cloud may have done them. Creating the run is not repeated (the attempt fails; an unstarted
 * run flashes nothing); adding a parameter and starting the run are checked first on the run, which
 * is this proxy's own, and repeated only if they did not happen.
 */
import { CloudError } from '../cloud/cloud-error.js';
import type { CloudClient } from '../cloud/client.js';
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
  const run = await cloud.createRun(project.id).catch((err: unknown) => {
    if (!(err instanceof CloudError && err.unsure)) throw err;
    throw new Error(
      `Could not create a run of the flash project: ${err.message}; an unstarted run may be left in "${options.flashProject}" (it flashes nothing)`,
      { cause: err },
    );
  });
  await cloud.getRunConfig(project.id, run.id);
  for (const p of await cloud.getRunParameters(run.id))
    await cloud.deleteRunParameter(project.id, run.id, p.id);
  await addParameter(cloud, project.id, run.id, 'FLAME_ZIP_URL', signedBuild);
  await addParameter(cloud, project.id, run.id, 'MEM_TOTAL', request.memory);
  await addParameter(cloud, project.id, run.id, 'BUILD_LABEL', buildLabel);
  await startRun(cloud, project.id, run.id, device.id);
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

/** Adds a run parameter; after an unsure failure, adds it again only if the run does not have it. */
async function addParameter(
  cloud: CloudClient,
  projectId: number,
  runId: number,
  key: string,
  value: string,
): Promise<void> {
  try {
    await cloud.addRunParameter(projectId, runId, key, value);
  } catch (err) {
    if (!(err instanceof CloudError && err.unsure)) throw err;
    const has = (await cloud.getRunParameters(runId)).some((p) => p.key === key);
    if (!has) await cloud.addRunParameter(projectId, runId, key, value);
  }
}

/** Starts the run; after an unsure failure, starts it again only if it is still not started. */
async function startRun(
  cloud: CloudClient,
  projectId: number,
  runId: number,
  deviceId: number,
): Promise<void> {
  try {
    await cloud.startRun(runId, [deviceId]);
  } catch (err) {
    if (!(err instanceof CloudError && err.unsure)) throw err;
    const { state } = await cloud.getRun(projectId, runId);
    if (state === 'CREATED') await cloud.startRun(runId, [deviceId]);
  }
}
