/**
 * @module routes/validate-device-request
 * Validates a `POST /device` body against `schemas/device-request.json` (ajv); the first problem
 * becomes a 400 naming the field, in the hapi/Joi shape upstream used (`validation.keys`).
 */
import { Ajv, type ErrorObject } from 'ajv';
import schema from '../schemas/device-request.json' with { type: 'json' };
import type { DeviceRequest } from '../device/request.js';
import { HttpError } from '../errors.js';

const validate = new Ajv({ allErrors: false }).compile<DeviceRequest>(schema);

export function parseDeviceRequest(body: unknown): DeviceRequest {
  if (validate(body)) return body;
  const err = validate.errors?.[0];
  const { field, message } = describe(err);
  throw new HttpError(400, message, {
    details: { validation: { source: 'payload', keys: field ? [field] : [] } },
  });
}

function describe(err: ErrorObject | undefined): { field?: string; message: string } {
  if (!err) return { message: 'Invalid device request' };
  const field = err.instancePath.replace(/^\//, '');
  switch (err.keyword) {
    case 'required': {
      const missing = String(err.params.missingProperty);
      return { field: missing, message: `"${missing}" is required (a string)` };
    }
    case 'additionalProperties': {
      const extra = String(err.params.additionalProperty);
      return {
        field: extra,
        message: `"${extra}" is not allowed; allowed: type, build, memory, sims, imei, phone_number`,
      };
    }
    case 'type':
      return field
        ? { field, message: `"${field}" must be a string` }
        : {
            message:
              'The body must be a JSON object like {"type":"flame","memory":"319","build":"https://..."}',
          };
    case 'minLength':
      return { field, message: `"${field}" must not be empty` };
    default:
      return { field, message: `"${field}" ${err.message ?? 'is invalid'}` };
  }
}
