/**
 * @module device/acquire
 * The device flow of `POST /device` (PROTOCOLS.md §7.3): up to `attempts` times, find online and
 * unlocked devices matching the request and start a session; else flash a device with the signed
 * build and start a session on it; then wait for the adb and marionette proxies. A session whose
 * proxies never come (or whose acquisition is aborted) is released before the error propagates.
 */
import type { Logger } from 'pino';
import type { CloudClient } from '../cloud/client.js';
import { findDevices } from '../cloud/find-devices.js';
import type { DeviceSession } from '../cloud/types.js';
import { messageOf } from '../errors.js';
import { signUrl, type SigningCredentials } from './bewit.js';
import { systemClock, type Clock } from './clock.js';
import { flashDevice } from './flash.js';
import type { FlowContext } from './flow-context.js';
import { DEFAULT_ACQUIRE_OPTIONS, type AcquireOptions } from './options.js';
import type { AcquiredDevice, DeviceRequest } from './request.js';
import { startSession, waitForProxy } from './session.js';

export interface AcquireDeps {
  cloud: CloudClient;
  log: Logger;
  /**
   * The worker's Taskcluster credentials, used to sign the build URL for flashing, and the task's
   * scopes, to which every signature is restricted (the task chooses the URL).
   */
  credentials: SigningCredentials;
  /** Session timeout in seconds: the task's maxRunTime. */
  deviceTimeoutSec: number;
  /** Host the task reaches the adb/marionette proxies on (upstream: 10.1.2.9). */
  proxyHost: string;
  clock?: Clock;
  random?: () => number;
  options?: Partial<AcquireOptions>;
}

export async function acquireDevice(
  deps: AcquireDeps,
  request: DeviceRequest,
  signal?: AbortSignal,
): Promise<AcquiredDevice> {
  const ctx: FlowContext = {
    cloud: deps.cloud,
    clock: deps.clock ?? systemClock,
    options: { ...DEFAULT_ACQUIRE_OPTIONS, ...deps.options },
    log: deps.log,
    random: deps.random ?? Math.random,
    signal,
  };
  const { options, clock } = ctx;
  const ttl = Math.max(options.bewitTtlSec, deps.deviceTimeoutSec);
  const signedBuild = signUrl(request.build, deps.credentials, ttl, clock.now());

  let session: DeviceSession | undefined;
  const unsure: string[] = [];
  /** Notes on sessions the cloud may have started without answering, for the final error. */
  const notes = (): string => (unsure.length > 0 ? ` Note: ${unsure.join('; ')}.` : '');
  for (let attempt = 1; attempt <= options.attempts && !session; attempt++) {
    const last = attempt === options.attempts;
    const candidates = (await findDevices(ctx.cloud, { ...request })).filter(
      (d) => d.online === true && d.locked === false,
    );
    const direct = await startSession(ctx, candidates, deps.deviceTimeoutSec);
    unsure.push(...(direct.unsure ?? []));
    session = direct.session;
    if (session) break;

    let flashed;
    try {
      flashed = await flashDevice(ctx, request, signedBuild);
    } catch (err) {
      signal?.throwIfAborted();
      if (last)
        throw new Error(
          `Could not flash device after ${options.attempts} attempts. ${messageOf(err)}${notes()}`,
          { cause: err },
        );
      ctx.log.warn({ attempt, err: messageOf(err) }, 'flashing failed; trying again');
      await clock.sleep(options.attemptDelayMs, signal);
      continue;
    }
    const after = await startSession(ctx, [flashed], deps.deviceTimeoutSec);
    unsure.push(...(after.unsure ?? []));
    session = after.session;
    if (session) break;
    if (last) {
      throw new Error(
        `Could not create device session after ${options.attempts} flashing attempts. ${after.error ?? ''}${notes()}`.trim(),
      );
    }
    await clock.sleep(options.attemptDelayMs, signal);
  }
  if (!session) throw new Error('Could not create a device session');

  try {
    const adb = await waitForProxy(ctx, 'adb', session.id);
    const marionette = await waitForProxy(ctx, 'marionette', session.id);
    return { session, device: session.device, proxies: { adb, marionette }, proxyHost: deps.proxyHost };
  } catch (err) {
    await deps.cloud.releaseDeviceSession(session.id).catch((releaseErr: unknown) => {
      ctx.log.error(
        { sessionId: session.id, err: messageOf(releaseErr) },
        'could not release the device session',
      );
    });
    throw err;
  }
}
