#!/usr/bin/env node
/* global structuredClone */
// Build step: compiles the JSON schemas in src/schemas into standalone ajv validators in
// dist/schemas/*-validate.js (ajv's documented standalone code, formats from ajv-formats through
// the `code.formats` option), so the CLI does not spend its start-up compiling them (~100 ms).
// Each file exports the sha256 of the schema it was made from; schemas/validators.ts refuses a
// stale or missing one loudly. Tests run on src/ and compile the schemas at start instead.
import { Ajv, _ } from 'ajv';
import addFormats from 'ajv-formats';
import standaloneCode from 'ajv/dist/standalone/index.js';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const SAMPLES = {
  payload: [
    {
      image: 'x',
      maxRunTime: 1,
      artifacts: { a: { type: 'file', path: '/a', expires: '2030-01-01T00:00:00Z' } },
      supersederUrl: 'http://x/y',
    },
    {
      image: { type: 'indexed-image', namespace: 'n', path: 'p' },
      maxRunTime: 1,
      features: { taskclusterProxy: true, dind: false },
    },
    {
      image: 5,
      maxRunTime: 0,
      command: 'x',
      env: { A: 1 },
      features: { nope: true, dind: true },
      artifacts: { a: { type: 'fil', expires: 'soon' } },
    },
  ],
  'worker-config': [
    {},
    { capacity: 0, nope: 1 },
    { capabilities: { privileged: true }, balrog: { probe: { attempts: 2 } } },
  ],
};

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist/schemas');
mkdirSync(out, { recursive: true });
const { default: options } = await import(pathToFileURL(join(root, 'src/schemas/ajv-options.json')).href, {
  with: { type: 'json' },
});
for (const name of ['payload', 'worker-config']) {
  const text = readFileSync(join(root, `src/schemas/${name}.json`), 'utf8');
  const schema = JSON.parse(text);
  const ajv = new Ajv({
    ...options[name],
    code: { source: true, esm: true, formats: _`require("ajv-formats/dist/formats").fullFormats` },
  });
  addFormats.default(ajv);
  const validate = ajv.compile(schema);
  const hash = createHash('sha256').update(JSON.stringify(schema)).digest('hex');
  // Standalone ESM code still loads ajv's runtime helpers and the formats with require().
  const code =
    "import { createRequire } from 'node:module';\nconst require = createRequire(import.meta.url);\n" +
    `export const schemaHash = ${JSON.stringify(hash)};\n` +
    standaloneCode.default(ajv, validate);
  const file = join(out, `${name}-validate.js`);
  writeFileSync(file, code);
  // Self-check: the standalone validator must agree with the compiled one on these samples.
  const standalone = (await import(`${pathToFileURL(file).href}?t=${Date.now()}`)).default;
  for (const sample of SAMPLES[name]) {
    const a = validate(structuredClone(sample));
    const b = standalone(structuredClone(sample));
    if (a !== b || JSON.stringify(validate.errors) !== JSON.stringify(standalone.errors)) {
      throw new Error(`${name}: the standalone validator disagrees with ajv on ${JSON.stringify(sample)}`);
    }
  }
}
