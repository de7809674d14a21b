/**
 * @module errors
 * The one error class of this package and the Taskcluster-shaped error body (PROTOCOLS.md §1.12):
 * `{code, message, requestInfo: {method, params, payload, time}}`, the message ending in a footer.
 */
import type { ErrorRequestHandler, Request, RequestHandler } from 'express';
import type { Logger } from 'pino';

const CODES: Record<number, string> = {
  400: 'InputError',
  401: 'AuthenticationFailed',
  403: 'InsufficientScopes',
  404: 'ResourceNotFound',
  409: 'RequestConflict',
  410: 'ResourceExpired',
  413: 'InputTooLarge',
  500: 'InternalServerError',
};

export class HttpError extends Error {
  readonly code: string;
  constructor(
    readonly status: number,
    message: string,
    code?: string,
  ) {
    super(message);
    this.code = code ?? CODES[status] ?? 'InternalServerError';
  }
}

/** The API method name a route sets (`res.locals.apiMethod`), as Taskcluster reports it. */
function apiMethod(req: Request): string {
  const name = (req.res?.locals as { apiMethod?: string } | undefined)?.apiMethod;
  return name ?? 'unknown';
}

export function errorBody(req: Request, err: HttpError): object {
  const time = new Date().toISOString();
  const method = apiMethod(req);
  const footer = `\n\n---\n\n* method:     ${method}\n* errorCode:  ${err.code}\n* statusCode: ${err.status}\n* time:       ${time}`;
  return {
    code: err.code,
    message: err.message + footer,
    requestInfo: { method, params: req.params ?? {}, payload: {}, time },
  };
}

export const notFound: RequestHandler = (req, _res, next) => {
  next(new HttpError(404, `No such endpoint: ${req.method} ${req.path}`, 'ResourceNotFound'));
};

export const errorHandler =
  (logger: Logger): ErrorRequestHandler =>
  (err: unknown, req, res, _next) => {
    const httpError =
      err instanceof HttpError
        ? err
        : isBodyParserError(err)
          ? (err as { status?: number }).status === 413
            ? new HttpError(413, `Request body too large: ${err.message}`, 'InputTooLarge')
            : new HttpError(400, `Malformed JSON body: ${err.message}`, 'MalformedPayload')
          : new HttpError(500, `Internal error (incidentId ${Date.now().toString(36)})`);
    if (!(err instanceof HttpError) && httpError.status === 500)
      logger.error({ err, method: req.method, path: req.originalUrl }, httpError.message);
    if (httpError.status === 401) res.setHeader('www-authenticate', 'hawk');
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.status(httpError.status).json(errorBody(req, httpError));
  };

function isBodyParserError(err: unknown): err is Error & { type: string } {
  return err instanceof Error && typeof (err as { type?: unknown }).type === 'string';
}
