/**
 * @module errors
 * One error class that knows its HTTP status, and the one Express error middleware that renders it
 * as a single text line (`balrog-vpn-proxy: <reason>`).
 */
import type { ErrorRequestHandler } from 'express';
import type { Logger } from 'pino';

export class HttpError extends Error {
  override readonly name = 'HttpError';
  constructor(
    readonly status: number,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** Renders an `HttpError` (anything else becomes 500) as one `text/plain` line. */
export function errorMiddleware(log: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    const status = err instanceof HttpError ? err.status : 500;
    const message = err instanceof HttpError ? err.message : 'internal error';
    log.warn(
      { status, method: req.method, url: req.originalUrl, err: err instanceof HttpError ? err.cause : err },
      message,
    );
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.status(status).type('text/plain').send(`balrog-vpn-proxy: ${message}\n`);
  };
}
