#!/usr/bin/env node
/* global structuredClone */
// Build step: compiles the JSON schemas in src/schemas into standalone ajv validators in
// dist/schemas/*-validate.js, so the CLI does not spend its start-up compiling them. Library code
// falls back to compiling at run time when the precompiled file is absent (tests run on src/).
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import standaloneCode from 'ajv/dist/standalone/index.js';
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
for (const [name, options] of [
  ['payload', { allErrors: true, strict: false }],
  ['worker-config', { allErrors: true, useDefaults: true }],
]) {
  const ajv = new Ajv({ ...options, code: { source: true, esm: true } });
  addFormats.default(ajv);
  const validate = ajv.compile(JSON.parse(readFileSync(join(root, `src/schemas/${name}.json`), 'utf8')));
  // The generated ESM still calls require() for ajv's runtime helpers and the formats.
  const header =
    "import { createRequire } from 'node:module';\nconst require = createRequire(import.meta.url);\n";
  // ajv-formats ships its own ajv, whose code objects standalone serialises as JSON: undo that.
  const code = standaloneCode
    .default(ajv, validate)
    .replace(/^"use strict";/, '')
    .replaceAll(
      '{"_items":["require(\\"ajv-formats/dist/formats\\").",{"str":"fullFormats"},""]}',
      'require("ajv-formats/dist/formats").fullFormats',
    );
  if (code.includes('"_items"'))
    throw new Error(`${name}: unserialised ajv code object left in the standalone validator`);
  const file = join(out, `${name}-validate.js`);
  writeFileSync(file, header + code);
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
