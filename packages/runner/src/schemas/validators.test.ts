import { describe, expect, it } from 'vitest';
import payloadSchema from './payload.json' with { type: 'json' };
import { checkPrecompiled, schemaHash, validatePayload, type Validator } from './validators.js';

describe('schema validators', () => {
  const validator: Validator = () => true;

  it('takes a precompiled validator made from the same schema', () => {
    const mod = { default: validator, schemaHash: schemaHash(payloadSchema) };
    expect(checkPrecompiled(mod, payloadSchema, 'dist/schemas/payload-validate.js')).toBe(validator);
  });

  it('refuses a stale one loudly, saying how to rebuild', () => {
    const changed = { ...payloadSchema, title: 'another version' };
    const mod = { default: validator, schemaHash: schemaHash(payloadSchema) };
    expect(() => checkPrecompiled(mod, changed, 'dist/schemas/payload-validate.js')).toThrow(
      'dist/schemas/payload-validate.js is stale: it was built from another version of its schema; rebuild the runner (npx nx build runner)',
    );
  });

  it('validates with every error from the sources', () => {
    expect(validatePayload({ image: 'x', maxRunTime: 1 })).toBe(true);
    expect(validatePayload({ image: 5 })).toBe(false);
    expect(validatePayload.errors?.length).toBeGreaterThan(1);
  });
});
