/**
 * @module e2e/faults/schema-arbitrary
 * fast-check arbitraries made from a JSON schema at run time (so they follow the schema's
 * changes): `valid` values (type, enum, const, oneOf/anyOf, $ref, properties/required, patterns,
 * bounds, date-time), `nearValid` ones (one mutation away: a required key gone, a wrong type, an
 * unknown key, a bound crossed) and `hostile` ones (huge strings, deep nesting, unicode, prototype
 * keys, wrong types everywhere).
 */
import fc from 'fast-check';

export type Schema = {
  [k: string]: unknown;
  type?: string | string[];
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: boolean | Schema;
  items?: Schema;
  oneOf?: Schema[];
  anyOf?: Schema[];
  allOf?: Schema[];
  enum?: unknown[];
  const?: unknown;
  $ref?: string;
  pattern?: string;
  propertyNames?: Schema;
  format?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
};

type Json = unknown;

/** Valid values of `schema` (its `$ref`s resolved against `root`). */
export function valid(root: Schema, schema: Schema = root, depth = 0): fc.Arbitrary<Json> {
  if (schema.$ref) return valid(root, resolveRef(root, schema.$ref), depth);
  if ('const' in schema) return fc.constant(schema.const);
  if (schema.enum) return fc.constantFrom(...schema.enum);
  const alts = schema.oneOf ?? schema.anyOf;
  if (alts) return fc.oneof(...alts.map((s) => valid(root, { ...s }, depth)));
  if (schema.allOf) return valid(root, Object.assign({}, ...schema.allOf, { allOf: undefined }), depth);
  const type = Array.isArray(schema.type) ? schema.type[0] : (schema.type ?? guessType(schema));
  switch (type) {
    case 'boolean':
      return fc.boolean();
    case 'integer':
      return fc.integer({ min: schema.minimum ?? -1000, max: schema.maximum ?? 100_000 });
    case 'number':
      return fc.double({ min: schema.minimum ?? -1e6, max: schema.maximum ?? 1e6, noNaN: true });
    case 'null':
      return fc.constant(null);
    case 'string':
      return validString(schema);
    case 'array':
      return fc.array(schema.items ? valid(root, schema.items, depth + 1) : fc.string(), {
        minLength: schema.minItems ?? 0,
        maxLength: Math.min(schema.maxItems ?? 4, 4),
      });
    default:
      return validObject(root, schema, depth);
  }
}

function guessType(schema: Schema): string {
  if (schema.properties || schema.additionalProperties !== undefined) return 'object';
  if (schema.items) return 'array';
  return 'string';
}

function validString(schema: Schema): fc.Arbitrary<string> {
  if (schema.format === 'date-time')
    return fc
      .date({ min: new Date('2020-01-01'), max: new Date('2030-01-01'), noInvalidDate: true })
      .map((d) => d.toJSON());
  if (schema.pattern) return fc.stringMatching(new RegExp(schema.pattern));
  return fc.string({ minLength: schema.minLength ?? 0, maxLength: Math.min(schema.maxLength ?? 20, 20) });
}

function validObject(root: Schema, schema: Schema, depth: number): fc.Arbitrary<Json> {
  const props = schema.properties ?? {};
  const required = new Set(schema.required ?? []);
  const known = Object.fromEntries(Object.entries(props).map(([k, s]) => [k, valid(root, s, depth + 1)]));
  const fixed = fc.record(known, { requiredKeys: [...required].filter((k) => k in props) });
  const extra = schema.additionalProperties;
  if (extra === undefined || extra === false || depth > 3) return fixed;
  const names = schema.propertyNames?.pattern
    ? fc.stringMatching(new RegExp(schema.propertyNames.pattern))
    : fc.string({ minLength: 1, maxLength: 12 });
  const values = extra === true ? fc.string() : valid(root, extra, depth + 1);
  return fc
    .tuple(fixed, fc.dictionary(names, values, { maxKeys: 3 }))
    .map(([a, b]) => ({ ...pickOwn(b, (k) => !(k in props)), ...(a as object) }));
}

function pickOwn(o: Record<string, unknown>, keep: (k: string) => boolean): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([k]) => keep(k)));
}

function resolveRef(root: Schema, ref: string): Schema {
  if (!ref.startsWith('#/')) throw new Error(`only local $refs are supported: ${ref}`);
  let at: unknown = root;
  for (const part of ref.slice(2).split('/')) at = (at as Record<string, unknown>)[part];
  if (!at) throw new Error(`unresolved $ref ${ref}`);
  return at as Schema;
}

/** A value of a type the schema never accepts at that place (mostly). */
const wrongType = fc.oneof(
  fc.integer(),
  fc.constant(null),
  fc.boolean(),
  fc.string(),
  fc.array(fc.integer(), { maxLength: 3 }),
  fc.constant({}),
);

/** A valid value with one thing wrong: a required key gone, a property of a wrong type, an unknown key, a bound crossed. */
export function nearValid(root: Schema): fc.Arbitrary<Json> {
  const keys = Object.keys(root.properties ?? {});
  return fc
    .tuple(valid(root), fc.constantFrom(...keys), wrongType, fc.nat({ max: 3 }))
    .map(([value, key, wrong, how]) => {
      const v = { ...(value as Record<string, unknown>) };
      if (how === 0) delete v[(root.required ?? [key])[0] ?? key];
      else if (how === 1) v[key] = wrong;
      else if (how === 2) v[`unknown-${key}`] = wrong;
      else v.maxRunTime = -1;
      return v;
    });
}

/** A nested value `depth` levels deep (arrays or objects). */
const deep = (depth: number, leaf: Json): Json => {
  let v = leaf;
  for (let i = 0; i < depth; i++) v = i % 2 ? [v] : { a: v };
  return v;
};

/** Payloads meant to hurt: huge strings, deep nesting, unicode, prototype keys, wrong types. */
export function hostile(root: Schema): fc.Arbitrary<Json> {
  const keys = Object.keys(root.properties ?? {});
  const nasty = fc.oneof(
    fc.integer({ min: 100_000, max: 1_000_000 }).map((n) => 'x'.repeat(n)), // huge string
    fc.integer({ min: 100, max: 2_000 }).map((d) => deep(d, 'leaf')), // deep nesting
    fc.string({ unit: 'grapheme', maxLength: 50 }), // unicode
    fc.string({ unit: 'binary', maxLength: 50 }), // lone surrogates and all
    fc.constantFrom('\u0000', '\u202e', '\ud800', '../../etc/passwd', '$(reboot)', '%00'),
    wrongType,
  );
  const protoKeys = fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty');
  return fc.oneof(
    // a valid payload with prototype keys put in (as JSON.parse puts them: own properties)
    fc
      .tuple(valid(root), protoKeys, fc.constantFrom(...keys), nasty)
      .map(([v, pk, key, val]) => withOwnKey({ ...(v as object), [key]: withOwnKey({}, pk, val) }, pk, val)),
    // a valid payload with one property replaced by something nasty
    fc
      .tuple(valid(root), fc.constantFrom(...keys), nasty)
      .map(([v, key, val]) => ({ ...(v as object), [key]: val })),
    // not an object at all, or an object of nothing but junk
    nasty,
    fc.dictionary(fc.string({ unit: 'grapheme', maxLength: 8 }), nasty, { maxKeys: 5 }),
  );
}

/** `o` with an own property `key` (also for `__proto__`, as JSON.parse makes it). */
function withOwnKey(o: object, key: string, value: Json): object {
  Object.defineProperty(o, key, { value, enumerable: true, configurable: true, writable: true });
  return o;
}
