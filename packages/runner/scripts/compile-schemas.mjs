#!/usr/bin/env node
// Build step: compiles the JSON schemas in src/schemas into standalone ajv validators in
// dist/schemas/*-validate.js, so the CLI does not spend its start-up compiling them. Library code
// falls back to compiling at run time when the precompiled file is absent (tests run on src/).
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import standaloneCode from 'ajv/dist/standalone/index.js';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

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
  const header = "import { createRequire } from 'node:module';\nconst require = createRequire(import.meta.url);\n";
  writeFileSync(join(out, `${name}-validate.js`), header + standaloneCode.default(ajv, validate).replace(/^"use strict";/, ''));
}
