/**
 * @module routes/device
 * `POST /device` (waits for the device, or with `?wait=false` answers 202 and acquires in the
 * background), `GET /device` (the current state, for polling), `POST /device/release`
 * (idempotent) and `GET /device/properties`.
 */
import { Router } from 'express';
import type { DeviceManager } from '../device/device-manager.js';
import { HttpError, messageOf } from '../errors.js';
import { parseDeviceRequest } from './validate-device-request.js';

export function deviceRoutes(devices: DeviceManager): Router {
  const router = Router();

  router.post('/device', async (req, res) => {
    const request = parseDeviceRequest(req.body);
    const wait = req.query.wait !== 'false';
    const acquiring = devices.acquire(request);
    if (!wait) {
      acquiring.catch(() => undefined); // the outcome is read through GET /device
      res.status(202).location('/device').json(devices.status());
      return;
    }
    try {
      const { session, device, proxies, proxyHost } = await acquiring;
      res.json({ session, device, proxies, proxyHost });
    } catch (err) {
      throw new HttpError(500, messageOf(err), { cause: err });
    }
  });

  router.get('/device', (_req, res) => {
    res.json(devices.status());
  });

  router.post('/device/release', async (_req, res) => {
    const result = await devices.release();
    const text = {
      released: 'Device released',
      aborted: 'Device request cancelled',
      none: 'No device session to release',
    }[result];
    res.type('text/plain').send(text);
  });

  router.get('/device/properties', async (_req, res) => {
    res.json(await devices.properties());
  });

  return router;
}
