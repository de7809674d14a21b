/**
 * @module device/session
 * Starting a session on one of several devices (PROTOCOLS.md §7.3 b) and fetching its adb and
 * marionette proxies (§7.3 step 3).
 *
 * Starting a session is not safe to repeat: after a 5xx or a lost answer (`CloudError.unsure`) the
 * cloud may have started it. A started session locks its device, so the device is looked at: still
 * unlocked, nothing was started and the try is repeated; locked, it is not tried again (a second
 * session elsewhere would be a second phone held), and the error says a session may be left there.
 */
import { CloudError } from '../cloud/cloud-error.js';
import { messageOf } from '../errors.js';
import type { Device, DeviceProxy, DeviceSession, ProxyType } from '../cloud/types.js';
import type { FlowContext } from './flow-context.js';

export interface SessionResult {
  session?: DeviceSession;
  /** The last failure, when no session could be started. */
  error?: string;
  /** Devices on which an unanswered session start may have left a session (for the final error). */
  unsure?: string[];
}

/** Tries the devices in a random order, each up to `sessionTries` times; the first session wins. */
export async function startSession(
  ctx: FlowContext,
  devices: readonly Device[],
  timeoutSec: number,
): Promise<SessionResult> {
  const { cloud, clock, options, signal, log } = ctx;
  let error: string | undefined;
  const unsure: string[] = [];
  devices: for (const device of shuffle(devices, ctx.random)) {
    for (let i = 0; i < options.sessionTries; i++) {
      signal?.throwIfAborted();
      try {
        const session = await cloud.startDeviceSession(device.id, timeoutSec);
        log.info({ sessionId: session.id, deviceId: device.id }, 'device session started');
        return { session };
      } catch (err) {
        error = messageOf(err);
        log.warn({ deviceId: device.id, try: i + 1, err: error }, 'device session failed to start');
        if (err instanceof CloudError && err.unsure && !(await stillFree(ctx, device.id))) {
          unsure.push(
            `device ${device.displayName} (id ${device.id}) may hold a session the cloud started without answering (${error}); it is locked now, was not tried again, and the cloud ends that session after ${timeoutSec} s`,
          );
          log.error(
            { deviceId: device.id },
            'device locked after an unanswered session start; not tried again',
          );
          continue devices;
        }
        await clock.sleep(options.sessionRetryMs, signal);
      }
    }
  }
  return {
    error: error ?? 'no online and unlocked device matched',
    ...(unsure.length > 0 ? { unsure } : {}),
  };
}

/** True when the device is online and unlocked: an unanswered session start did not start one. */
async function stillFree(ctx: FlowContext, deviceId: number): Promise<boolean> {
  try {
    const device = (await ctx.cloud.getDevices()).find((d) => d.id === deviceId);
    return device?.online === true && device.locked === false;
  } catch {
    return false; // cannot tell: do not repeat
  }
}

/** Polls the proxy list of a session until one of the type exists; returns it verbatim. */
export async function waitForProxy(
  ctx: FlowContext,
  type: ProxyType,
  sessionId: number,
): Promise<DeviceProxy> {
  const { cloud, clock, options, signal } = ctx;
  for (let i = 0; i < options.proxyTries; i++) {
    signal?.throwIfAborted();
    const proxies = await cloud.getProxies(type, sessionId);
    if (proxies[0] !== undefined) return proxies[0];
    if (i + 1 < options.proxyTries) await clock.sleep(options.proxyPollMs, signal);
  }
  const seconds = Math.round((options.proxyTries * options.proxyPollMs) / 1000);
  throw new Error(`The Testdroid cloud set up no ${type} proxy for session ${sessionId} within ${seconds} s`);
}

function shuffle<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}
