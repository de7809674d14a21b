/**
 * @module device/device-manager
 * The proxy's one "current device" (one task per sidecar): acquire it (waiting, or in the
 * background for polling), report its state, read its properties, release it. Releasing while an
 * acquisition runs aborts it, and the flow releases any session it had already started.
 */
import type { CloudClient } from '../cloud/client.js';
import { HttpError, messageOf } from '../errors.js';
import { acquireDevice, type AcquireDeps } from './acquire.js';
import { flattenProperties } from './properties.js';
import type { AcquiredDevice, DeviceRequest } from './request.js';

export type DeviceState =
  | { state: 'idle' }
  | { state: 'acquiring'; since: string }
  | ({ state: 'ready' } & AcquiredDevice)
  | { state: 'failed'; error: string };

export type ReleaseResult = 'released' | 'aborted' | 'none';

export class DeviceManager {
  private current: DeviceState = { state: 'idle' };
  private pending: { controller: AbortController; done: Promise<AcquiredDevice> } | undefined;

  constructor(private readonly deps: AcquireDeps & { cloud: CloudClient }) {}

  status(): DeviceState {
    return this.current;
  }

  /** Starts an acquisition; resolves with the device or rejects with the flow's error. */
  acquire(request: DeviceRequest): Promise<AcquiredDevice> {
    if (this.current.state === 'ready' || this.pending) {
      throw new HttpError(
        409,
        this.pending
          ? 'A device is already being acquired; wait for it (GET /device) or POST /device/release first'
          : 'A device session is already active; POST /device/release before requesting another device',
      );
    }
    const controller = new AbortController();
    this.current = {
      state: 'acquiring',
      since: new Date((this.deps.clock ?? { now: Date.now }).now()).toISOString(),
    };
    // deferred one tick so that `pending` is set before the flow can finish
    const done = Promise.resolve().then(() => this.run(request, controller));
    this.pending = { controller, done };
    return done;
  }

  private async run(request: DeviceRequest, controller: AbortController): Promise<AcquiredDevice> {
    try {
      const device = await acquireDevice(this.deps, request, controller.signal);
      if (controller.signal.aborted) {
        // released while the last step finished: give the session back
        await this.deps.cloud.releaseDeviceSession(device.session.id);
        controller.signal.throwIfAborted();
      }
      this.current = { state: 'ready', ...device };
      return device;
    } catch (err) {
      this.current = controller.signal.aborted
        ? { state: 'idle' }
        : { state: 'failed', error: messageOf(err) };
      this.deps.log.error({ err: messageOf(err) }, 'device acquisition failed');
      throw err;
    } finally {
      this.pending = undefined;
    }
  }

  /** Releases the current session (or aborts an acquisition). Releasing nothing is not an error. */
  async release(): Promise<ReleaseResult> {
    if (this.pending) {
      const { controller, done } = this.pending;
      controller.abort(new Error('The device request was cancelled by POST /device/release'));
      await done.catch(() => undefined);
      return 'aborted';
    }
    const current = this.current;
    if (current.state !== 'ready') {
      this.current = { state: 'idle' };
      return 'none';
    }
    await this.deps.cloud.releaseDeviceSession(current.session.id);
    this.current = { state: 'idle' };
    this.deps.log.info({ sessionId: current.session.id }, 'device session released');
    return 'released';
  }

  async properties(): Promise<Record<string, string | string[]>> {
    const current = this.current;
    if (current.state !== 'ready') throw new HttpError(404, 'No device session: POST /device first');
    return flattenProperties(await this.deps.cloud.getDeviceProperties(current.device.id));
  }
}
