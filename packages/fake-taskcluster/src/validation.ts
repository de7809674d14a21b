/**
 * @module validation
 * Request checks in the order Taskcluster's API library applies them after authentication:
 * URL parameters against patterns (400 InvalidRequestArguments), then the JSON body against the
 * method's schema (400 InputValidationError; unknown keys are refused, defaults are filled in).
 */
import { Ajv } from 'ajv';
import type { ValidateFunction } from 'ajv';
import addFormatsImport from 'ajv-formats';
import type { Request, RequestHandler } from 'express';
import { HttpError } from './errors.js';

// ajv-formats is CommonJS with a default export.
const addFormats = addFormatsImport as unknown as (ajv: Ajv) => Ajv;
const ajv = addFormats(new Ajv({ allErrors: false, useDefaults: true, strict: false }));

/** A URL parameter as one string (express gives wildcard parameters as an array of segments). */
export function param(req: Request, name: string): string {
  const value: unknown = (req.params as Record<string, unknown>)[name];
  return Array.isArray(value) ? value.join('/') : String(value ?? '');
}

export function validParams(patterns: Readonly<Record<string, RegExp>>): RequestHandler {
  return (req, _res, next) => {
    const errors = Object.entries(patterns)
      .filter(([name]) => name in req.params)
      .filter(([name, pattern]) => !pattern.test(param(req, name)))
      .map(
        ([name, pattern]) =>
          `URL parameter '${name}' given as '${param(req, name)}' must match regular expression: '${pattern.toString()}'`,
      );
    if (errors.length > 0)
      throw new HttpError(400, `Invalid URL patterns:\n${errors.join('\n')}`, 'InvalidRequestArguments');
    next();
  };
}

export function validBody(schema: object): RequestHandler {
  const validate: ValidateFunction = ajv.compile(schema);
  return (req, _res, next) => {
    if (!req.is('application/json'))
      throw new HttpError(
        400,
        `Payload must be JSON with content-type: application/json got content-type: ${req.headers['content-type'] ?? null}`,
        'MalformedPayload',
      );
    if (!validate(req.body)) {
      const detail = ajv.errorsText(validate.errors, { dataVar: 'data' });
      const extra = (validate.errors ?? [])
        .map((e) => (e.keyword === 'additionalProperties' ? ` (${JSON.stringify(e.params)})` : ''))
        .join('');
      throw new HttpError(400, `Schema validation error: ${detail}${extra}`, 'InputValidationError');
    }
    next();
  };
}
