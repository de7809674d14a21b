/**
 * @module errors
 * The one error class of this package, and the error middleware: a one-line text/plain body.
 */
import type { ErrorRequestHandler } from 'express';
import type { Logger } from 'pino';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export const errorHandler =
  (logger: Logger): ErrorRequestHandler =>
  (err: unknown, req, res, _next) => {
    const status = err instanceof HttpError ? err.status : isClientError(err) ? err.status : 500;
    const message =
      err instanceof HttpError || isClientError(err)
        ? (err as Error).message
        : 'internal error in taskcluster-proxy';
    if (status >= 500) logger.error({ err: (err as Error).message, method: req.method }, 'request failed');
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (err instanceof HttpError) for (const [k, v] of Object.entries(err.headers)) res.setHeader(k, v);
    res.status(status).type('text/plain').send(`${message}\n`);
  };

/** body-parser errors (too large, bad encoding) carry a 4xx status. */
function isClientError(err: unknown): err is Error & { status: number } {
  const status = (err as { status?: unknown } | null)?.status;
  return err instanceof Error && typeof status === 'number' && status >= 400 && status < 500;
}
