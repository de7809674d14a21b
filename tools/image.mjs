#!/usr/bin/env node
// Builds one image: `node tools/image.mjs <name>` (the nx `image` target of a package).
//   1. bundles the package's built CLI (dist/cli.js) with esbuild into packages/<pkg>/bundle/<name>.mjs
//      (when images/<name>/image.json says which package; see below),
//   2. ensures the base images exist (stand-ins on a machine without a registry),
//   3. `docker build -f images/<name>/Dockerfile` with the repo root as context, tagged
//      docker-worker/<name>:<package version> and :latest.
// images/<name>/image.json: { "package": "<folder under packages/>", "entry": "dist/cli.js" }
// Builds are serialised with flock so parallel nx runs do not fight over 2 cores.
import { spawnSync } from 'node:child_process';
import { readFileSync, existsSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureEngine } from './engine.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const name = process.argv[2];
if (!name) {
  console.error('usage: node tools/image.mjs <image-name>   (a folder under images/)');
  process.exit(64);
}
const dir = join(root, 'images', name);
if (!existsSync(join(dir, 'Dockerfile'))) {
  console.error(`image: no images/${name}/Dockerfile; create it, or check the name`);
  process.exit(64);
}
const meta = existsSync(join(dir, 'image.json'))
  ? JSON.parse(readFileSync(join(dir, 'image.json'), 'utf8'))
  : {};
const pkgDir = join(root, 'packages', meta.package ?? name);
const version = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')).version;

await ensureEngine({ quiet: true });
const base = spawnSync(process.execPath, [join(root, 'images/base/ensure.mjs')], { stdio: 'inherit' });
if (base.status !== 0) process.exit(base.status ?? 1);

if (meta.entry !== undefined || existsSync(join(pkgDir, 'dist/cli.js'))) {
  const entry = join(pkgDir, meta.entry ?? 'dist/cli.js');
  if (!existsSync(entry)) {
    console.error(
      `image: ${entry} is missing; build the package first (npx nx build ${meta.package ?? name})`,
    );
    process.exit(1);
  }
  mkdirSync(join(pkgDir, 'bundle'), { recursive: true });
  const esbuild = await import('esbuild');
  await esbuild.build({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    outfile: join(pkgDir, 'bundle', `${name}.mjs`),
    // ESM bundles of CommonJS dependencies need require/__dirname.
    banner: {
      js: "import { createRequire as __cr } from 'node:module'; import { fileURLToPath as __fu } from 'node:url'; import { dirname as __dn } from 'node:path'; const require = __cr(import.meta.url); const __filename = __fu(import.meta.url); const __dirname = __dn(__filename);",
    },
    logLevel: 'warning',
    legalComments: 'none',
  });
}

const tags = [`docker-worker/${name}:${version}`, `docker-worker/${name}:latest`];
const args = [
  '-w',
  '1800',
  '/tmp/docker-worker-image-build.lock',
  'docker',
  'build',
  '-f',
  join(dir, 'Dockerfile'),
];
for (const t of tags) args.push('-t', t);
args.push(
  '--label',
  `org.opencontainers.image.version=${version}`,
  '--label',
  `org.docker-worker.image=${name}`,
  root,
);
console.log(`image: building ${tags.join(', ')}`);
// Progress goes straight to the terminal.
const r = spawnSync('flock', args, { stdio: 'inherit' });
if (r.status !== 0) {
  console.error(`image: docker build of ${name} failed (exit ${r.status})`);
  process.exit(1);
}
console.log(`image: built ${tags.join(', ')}`);
// The build before this one is now untagged: remove such dangling images of ours, nothing else.
spawnSync('docker', ['image', 'prune', '-f', '--filter', `label=org.docker-worker.image=${name}`], {
  stdio: 'ignore',
});
