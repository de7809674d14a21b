/**
 * @module auth/require-scopes
 * The per-endpoint middleware: name the API method, authenticate (once per request) and evaluate
 * the endpoint's scope expression. 401 for authentication failures, 403 InsufficientScopes naming
 * what is missing (PROTOCOLS.md §1.12, §2.2).
 */
import type { Request, RequestHandler, Response } from 'express';
import { removeGivenScopes, satisfiesExpression } from 'taskcluster-lib-scopes';
import type { ScopeExpression } from 'taskcluster-lib-scopes';
import { HttpError } from '../errors.js';
import type { AuthRequest, AuthResult } from './authenticate.js';

export type Authenticate = (req: AuthRequest) => Promise<AuthResult>;
export type ExpressionFor = ScopeExpression | ((req: Request) => ScopeExpression);

export interface ApiLocals {
  apiMethod?: string;
  auth?: AuthResult;
}

export function authOf(res: Response): AuthResult {
  const auth = (res.locals as ApiLocals).auth;
  if (!auth) throw new HttpError(500, 'endpoint used auth without requireScopes');
  return auth;
}

function pretty(expr: unknown): string {
  return '```\n' + JSON.stringify(expr, null, 2) + '\n```';
}

/**
 * Throws 403 InsufficientScopes unless the request's scopes satisfy `expr`. Routes whose
 * expression needs the body or stored state (as Taskcluster's `req.authorize`) call it later.
 */
export function authorize(res: Response, expr: ScopeExpression): void {
  const auth = authOf(res);
  if (satisfiesExpression(auth.scopes, expr)) return;
  const missing = removeGivenScopes(auth.scopes, expr);
  throw new HttpError(
    403,
    `Client ID ${auth.clientId ?? '(anonymous)'} does not have sufficient scopes and is missing the following scopes:\n\n` +
      `${pretty(missing)}\n\nThis request requires the client to satisfy the following scope expression:\n\n${pretty(expr)}`,
    'InsufficientScopes',
  );
}

/** Authenticates only; the route calls `authorize` once it knows its expression. */
export const DEFERRED: ScopeExpression = { AllOf: [] };

/**
 * `endpoint(name, expression)`: declares an API method. With an expression the request is
 * authenticated and must satisfy it (`{AllOf: []}` = any caller, even anonymous); with `null`
 * (like `ping`) nothing is authenticated.
 */
export function createEndpoint(authenticate: Authenticate) {
  return function endpoint(name: string, expression: ExpressionFor | null): RequestHandler {
    return async (req, res, next) => {
      const locals = res.locals as ApiLocals;
      locals.apiMethod = name;
      if (expression === null) return next();
      try {
        locals.auth = await authenticate({ method: req.method, url: req.originalUrl, headers: req.headers });
        authorize(res, typeof expression === 'function' ? expression(req) : expression);
        next();
      } catch (err) {
        next(err);
      }
    };
  };
}

export type Endpoint = ReturnType<typeof createEndpoint>;
