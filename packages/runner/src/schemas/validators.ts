/**
 * @module schemas/validators
 * The payload and worker-config validators. Built code (dist/) loads the standalone validators
 * that `scripts/compile-schemas.mjs` made at build time, and refuses a missing or stale one (made
 * from another version of the schema) with a message that says to rebuild. Tests run on the
 * TypeScript sources, where the schemas are compiled here with the same options.
 */
import type { Ajv, ErrorObject } from 'ajv';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import options from './ajv-options.json' with { type: 'json' };
import payloadSchema from './payload.json' with { type: 'json' };
import configSchema from './worker-config.json' with { type: 'json' };

export interface Validator {
  (data: unknown): boolean;
  errors?: ErrorObject[] | null;
}

/** What a precompiled validator module exports. */
export interface Precompiled {
  default: Validator;
  schemaHash: string;
}

export const schemaHash = (schema: object): string =>
  createHash('sha256').update(JSON.stringify(schema)).digest('hex');

/** The precompiled validator, if it was made from `schema`; else a loud error naming the fix. */
export function checkPrecompiled(mod: Precompiled, schema: object, file: string): Validator {
  if (mod.schemaHash !== schemaHash(schema)) {
    throw new Error(
      `${file} is stale: it was built from another version of its schema; rebuild the runner (npx nx build runner)`,
    );
  }
  return mod.default;
}

async function load(name: keyof typeof options, schema: object): Promise<Validator> {
  if (import.meta.url.endsWith('.ts')) {
    // Only the sources compile schemas: built code never loads ajv's compiler (~50 ms at start-up).
    const { Ajv } = await import('ajv');
    // ajv-formats is CommonJS with a default export.
    const addFormats = (await import('ajv-formats')).default as unknown as (ajv: Ajv) => Ajv;
    const ajv = new Ajv(options[name]);
    addFormats(ajv);
    return ajv.compile(schema) as Validator;
  }
  const url = new URL(`./${name}-validate.js`, import.meta.url);
  let mod: Precompiled;
  try {
    mod = (await import(url.href)) as Precompiled;
  } catch (err) {
    throw new Error(
      `cannot load ${fileURLToPath(url)} (${(err as Error).message}); rebuild the runner (npx nx build runner)`,
      { cause: err },
    );
  }
  return checkPrecompiled(mod, schema, fileURLToPath(url));
}

export const validatePayload: Validator = await load('payload', payloadSchema);
export const validateConfig: Validator = await load('worker-config', configSchema);
