/**
 * @module device/request
 * The body of `POST /device` and the device the proxy hands back.
 */
import type { Device, DeviceProxy, DeviceSession } from '../cloud/types.js';

export interface DeviceRequest {
  type: string;
  build: string;
  memory: string;
  sims?: string;
  imei?: string;
  phone_number?: string;
}

export interface AcquiredDevice {
  session: DeviceSession;
  device: Device;
  proxies: { adb: DeviceProxy; marionette: DeviceProxy };
  proxyHost: string;
}
