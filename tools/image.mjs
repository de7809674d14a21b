#!/usr/bin/env node
// Builds one image: `node tools/image.mjs <name>` (the nx `image` target of a package).
//   1. bundles the package's built CLI (dist/cli.js) with esbuild into packages/<pkg>/bundle/<name>.mjs
//      (when images/<name>/image.json says which package; see below),
//   2. ensures the base images exist (stand-ins on a machine without a registry),
//   3. `docker build -f images/<name>/Dockerfile` with the repo root as context, tagged
//      docker-worker/<name>:<package version> and :latest.
// images/<name>/image.json: { "package": "<folder under packages/>", "entry": "dist/cli.js" }
// Builds are serialised with flock so parallel nx runs do not fight over 2 cores.
// Output: one line per image. On a terminal it is updated in place (`step n/m …`) and ends as
// `image docker-worker/<name>: built|cached in S s`; elsewhere (CI, nx) only that last line.
// The whole build log goes to .build-logs/<name>.log; a failed build prints its last lines.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, existsSync, mkdirSync, createWriteStream } from 'node:fs';
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
const base = spawnSync(process.execPath, [join(root, 'images/base/ensure.mjs'), '--quiet'], {
  stdio: 'inherit',
});
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

const progress = progressLine();
const tags = [`docker-worker/${name}:${version}`, `docker-worker/${name}:latest`];
const args = [
  '-w',
  '1800',
  '/tmp/docker-worker-image-build.lock',
  'docker',
  'build',
  '--force-rm', // a failed step leaves no intermediate container behind
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
const image = `image docker-worker/${name}`;
const logFile = join(root, '.build-logs', `${name}.log`);
mkdirSync(dirname(logFile), { recursive: true });
const started = Date.now();
const { code, cached, lastLines } = await build(args, logFile);
const took = `${((Date.now() - started) / 1000).toFixed(1)} s`;
if (code !== 0) {
  progress.done(`${image}: docker build failed (exit ${code}) after ${took}; last lines:`);
  console.error(lastLines.map((l) => `  ${l}`).join('\n'));
  console.error(`${image}: the whole build log is ${logFile}`);
  process.exit(1);
}
progress.done(`${image}: ${cached ? 'cached' : 'built'} in ${took}`);
// The build before this one is now untagged: remove such dangling images of ours, nothing else.
spawnSync('docker', ['image', 'prune', '-f', '--filter', `label=org.docker-worker.image=${name}`], {
  stdio: 'ignore',
});

/** One line on a terminal, rewritten in place; elsewhere only the final line is printed. */
function progressLine(stream = process.stdout) {
  const tty = stream.isTTY === true;
  let shown = false;
  return {
    update(text) {
      if (!tty) return;
      const width = Math.max((stream.columns || 100) - 1, 20);
      stream.write(`\r\x1b[K${text.length > width ? `${text.slice(0, width - 1)}…` : text}`);
      shown = true;
    },
    done(text) {
      if (shown) stream.write('\r\x1b[K');
      shown = false;
      stream.write(`${text}\n`);
    },
  };
}

/**
 * Runs `flock … docker build …` with its output into `logFile`, showing the current step. Knows
 * the classic builder (`Step 2/5 : COPY …`, ` ---> Using cache`) and BuildKit's plain progress
 * (`#6 [2/3] COPY …`, `#6 CACHED`). Resolves to the exit code, whether every step came from the
 * cache, and the last 20 lines.
 */
function build(flockArgs, logFile) {
  const log = createWriteStream(logFile);
  log.write(`$ flock ${flockArgs.join(' ')}\n`);
  progress.update(`${image}: waiting for the build lock`);
  const child = spawn('flock', flockArgs, { stdio: ['ignore', 'pipe', 'pipe'] });
  const last = [];
  let steps = 0;
  let fromCache = 0;
  let partial = '';
  const onLine = (line) => {
    last.push(line);
    if (last.length > 20) last.shift();
    const classic = /^Step (\d+)\/(\d+) : (.*)$/.exec(line);
    const kit = /^#\d+ \[(?:[\w-]+ )?(\d+)\/(\d+)\] (.*)$/.exec(line);
    const step = classic ?? kit;
    if (step) {
      if (!/^FROM /i.test(step[3] ?? '')) steps += 1;
      progress.update(`${image}: step ${step[1]}/${step[2]} ${step[3]}`);
    } else if (/^ ---> Using cache$/.test(line) || /^#\d+ CACHED$/.test(line)) {
      fromCache += 1;
    }
  };
  const onData = (chunk) => {
    log.write(chunk);
    const lines = (partial + chunk.toString()).split(/\r?\n/);
    partial = lines.pop() ?? '';
    for (const l of lines) onLine(l);
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  return new Promise((resolve) => {
    child.on('error', (err) => onData(Buffer.from(`${err.message}\n`)));
    child.on('close', (code) => {
      if (partial) onLine(partial);
      log.end();
      resolve({ code: code ?? 1, cached: steps > 0 && fromCache >= steps, lastLines: last });
    });
  });
}
