/**
 * @module device/session
 * Starting a session on one of several devices (PROTOCOLS.md §7.3 b) and fetching its adb and
 * marionette proxies (§7.3 step 3).
 */
import { messageOf } from '../errors.js';
import type { Device, DeviceProxy, DeviceSession, ProxyType } from '../cloud/types.js';
import type { FlowContext } from './flow-context.js';

export interface SessionResult {
  session?: DeviceSession;
  /** The last failure, when no session could be started. */
  error?: string;
}

/** Tries the devices in a random order, each up to `sessionTries` times; the first session wins. */
export async function startSession(
  ctx: FlowContext,
  devices: readonly Device[],
  timeoutSec: number,
): Promise<SessionResult> {
  const { cloud, clock, options, signal, log } = ctx;
  let error: string | undefined;
  for (const device of shuffle(devices, ctx.random)) {
    for (let i = 0; i < options.sessionTries; i++) {
      signal?.throwIfAborted();
      try {
        const session = await cloud.startDeviceSession(device.id, timeoutSec);
        log.info({ sessionId: session.id, deviceId: device.id }, 'device session started');
        return { session };
      } catch (err) {
        error = messageOf(err);
        log.warn({ deviceId: device.id, try: i + 1, err: error }, 'device session failed to start');
        await clock.sleep(options.sessionRetryMs, signal);
      }
    }
  }
  return { error: error ?? 'no online and unlocked device matched' };
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
