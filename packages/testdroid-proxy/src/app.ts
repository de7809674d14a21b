/**
 * @module app
 * `createApp(deps)`: the testdroid-proxy HTTP API (PROTOCOLS.md §7.2) as an express app that
 * never listens. Route handlers throw {@link HttpError}; one middleware renders every error.
 *
 * @example
 * const app = createApp({ cloud, devices: new DeviceManager({ cloud, log, ... }), log });
 * app.listen(80);
 */
import { STATUS_CODES } from 'node:http';
import express, { type ErrorRequestHandler, type Express } from 'express';
import type { Logger } from 'pino';
import type { CloudClient } from './cloud/client.js';
import { CloudError } from './cloud/cloud-error.js';
import type { DeviceManager } from './device/device-manager.js';
import { HttpError, messageOf } from './errors.js';
import { deviceRoutes } from './routes/device.js';

export interface AppDeps {
  cloud: CloudClient;
  devices: DeviceManager;
  log: Logger;
}

export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.use((req, res, next) => {
    res.on('finish', () =>
      deps.log.info({ method: req.method, url: req.originalUrl, status: res.statusCode }, 'request'),
    );
    next();
  });
  // any content type: a task's `curl -d` without a JSON content-type still works
  app.use(express.json({ limit: '64kb', type: () => true }));

  app.get('/', (_req, res) => {
    res.type('text/plain').send('Server running');
  });
  app.get('/devices', async (_req, res) => {
    res.json(await deps.cloud.getDevices());
  });
  app.use(deviceRoutes(deps.devices));

  app.use((req) => {
    throw new HttpError(404, `No route ${req.method} ${req.path}; see the testdroid-proxy README`);
  });
  app.use(errorHandler(deps.log));
  return app;
}

function errorHandler(log: Logger): ErrorRequestHandler {
  return (err: unknown, _req, res, _next) => {
    const status = statusOf(err);
    const message =
      status === 400 && isBodyParseError(err) ? 'The request body is not valid JSON' : messageOf(err);
    if (status >= 500) log.error({ err: message }, 'request failed');
    const details = err instanceof HttpError ? err.details : undefined;
    res.status(status).json({
      statusCode: status,
      // upstream's intended failure body was {"error": "Error: <message>"}
      error: status >= 500 ? `Error: ${message}` : STATUS_CODES[status],
      message,
      ...details,
    });
  };
}

function statusOf(err: unknown): number {
  if (err instanceof HttpError) return err.status;
  // the cloud's status (e.g. 400 for a refused login) is not about the task's request
  if (err instanceof CloudError) return 502;
  const status =
    (err as { status?: unknown; statusCode?: unknown }).status ??
    (err as { statusCode?: unknown }).statusCode;
  return typeof status === 'number' && status >= 400 && status < 600 ? status : 500;
}

function isBodyParseError(err: unknown): boolean {
  return (err as { type?: unknown }).type === 'entity.parse.failed';
}
