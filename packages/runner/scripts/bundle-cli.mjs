#!/usr/bin/env node
// Build step after tsc: bundles the CLI (src/cli.ts and the third-party code it loads) into
// dist/cli.js, with what only some commands need (queue mode, pino-pretty) in dist/cli-*.js
// (beside it: the chunks import ./schemas/validators.js by that relative path).
// Node 20's ESM loader resolves and reads each of the ~400 files of the unbundled CLI one by one:
// the bundle starts in ~120 ms instead of ~300 ms (see packages/runner/README.md, performance).
// Kept out of the bundle:
// - the workspace packages (@docker-worker/*), loaded from their own dist as before;
// - schemas/validators.js, which finds the precompiled validators next to itself;
// - dockerode's dependencies for features the runner never uses (BuildKit sessions: grpc,
//   protobufjs; image builds: tar-fs, dockerignore; DOCKER_HOST=ssh://: ssh2). They are loaded
//   from node_modules on first use, through a stand-in that requires them then.
// Two edits of dockerode's own code, for start-up and per-request time:
// - readable-stream (83 KB; docker-modem's hijacked-connection duplex) is Node's own node:stream;
// - docker-modem formats every request's options with util.inspect (showHidden, depth: null) for
//   its `debug` line even when that line is off: it does so only when DEBUG enables it.
import { build } from 'esbuild';
import { readdirSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const ON_FIRST_USE = /^(ssh2|@grpc\/grpc-js|@grpc\/proto-loader|protobufjs|tar-fs|@balena\/dockerignore)$/;

/** `module.exports` of `name`, required when one of its members is first used. */
const standIn = (name) => `
let real;
const load = () => (real ??= require(${JSON.stringify(name)}));
const member = (key) =>
  new Proxy(function () {}, {
    construct: (_, args) => new (load()[key])(...args),
    apply: (_, self, args) => load()[key].apply(self, args),
    get: (_, prop) => load()[key][prop],
  });
module.exports = new Proxy({}, { get: (_, key) => member(key), has: (_, key) => key in load() });
`;

for (const f of readdirSync(join(root, 'dist'))) if (/^cli-.*\.js$/.test(f)) rmSync(join(root, 'dist', f)); // an earlier build's

await build({
  absWorkingDir: root,
  entryPoints: { cli: 'src/cli.ts' },
  outdir: 'dist',
  chunkNames: 'cli-[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  logLevel: 'warning',
  // Less to parse at every start (identifiers are kept: stack traces still name functions).
  minifyWhitespace: true,
  minifySyntax: true,
  alias: { 'readable-stream': 'node:stream' },
  // CommonJS code in the bundle calls require(): give the ES module one.
  banner: {
    js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
  },
  plugins: [
    {
      name: 'docker-worker-externals',
      setup(b) {
        b.onResolve({ filter: /^@docker-worker\// }, (a) => ({ path: a.path, external: true }));
        b.onResolve({ filter: /schemas\/validators\.js$/ }, () => ({
          path: './schemas/validators.js',
          external: true,
        }));
        b.onResolve({ filter: ON_FIRST_USE }, (a) =>
          a.namespace === 'on-first-use'
            ? { path: a.path, external: true }
            : { path: a.path, namespace: 'on-first-use' },
        );
        b.onLoad({ filter: /docker-modem[\\/]lib[\\/]modem\.js$/ }, async (a) => {
          const code = await readFile(a.path, 'utf8');
          const edited = code.replace(
            "debug('Sending: %s', util.inspect(",
            "debug.enabled && debug('Sending: %s', util.inspect(",
          );
          if (edited === code)
            throw new Error(`${a.path}: the debug line to guard was not found (docker-modem changed?)`);
          return { contents: edited, loader: 'js' };
        });
        b.onLoad({ filter: /.*/, namespace: 'on-first-use' }, (a) => ({
          contents: standIn(a.path),
          loader: 'js',
        }));
      },
    },
  ],
});
