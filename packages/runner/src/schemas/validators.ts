/**
 * @module schemas/validators
 * The payload and worker-config validators: the standalone ones precompiled at build time
 * (`scripts/compile-schemas.mjs` → dist/schemas/*-validate.js) when present, else compiled here
 * with the same options (tests run on the TypeScript sources).
 */
import { Ajv, type ErrorObject } from 'ajv';
import addFormatsImport from 'ajv-formats';
import payloadSchema from './payload.json' with { type: 'json' };
import configSchema from './worker-config.json' with { type: 'json' };

export interface Validator {
  (data: unknown): boolean;
  errors?: ErrorObject[] | null;
}

// ajv-formats is CommonJS with a default export.
const addFormats = addFormatsImport as unknown as (ajv: Ajv) => Ajv;

async function load(
  name: string,
  schema: object,
  options: ConstructorParameters<typeof Ajv>[0],
): Promise<Validator> {
  try {
    const mod = (await import(new URL(`./${name}-validate.js`, import.meta.url).href)) as {
      default: Validator;
    };
    return mod.default;
  } catch {
    const ajv = new Ajv(options);
    addFormats(ajv);
    return ajv.compile(schema) as Validator;
  }
}

export const validatePayload: Validator = await load('payload', payloadSchema, {
  allErrors: true,
  strict: false,
});
export const validateConfig: Validator = await load('worker-config', configSchema, {
  allErrors: true,
  useDefaults: true,
});
