#!/usr/bin/env node
// Stand-in base images for machines with no container registry. Plain Node, no dependencies.
//
// For each name the Dockerfiles use (`debian:bookworm-slim`, `node:20-bookworm-slim`):
// present locally -> nothing to do; `docker pull` works -> the real image is used;
// otherwise build a stand-in:
//   debian:bookworm-slim   = `debootstrap --variant=minbase bookworm`, `docker import`ed
//   node:20-bookworm-slim  = that + this host's Node 20 binary as /usr/local/bin/node
// The debootstrap tarball is cached in BASE_IMAGE_CACHE (default /var/cache/docker-worker)
// so that later runs take seconds. The output of apt-get, debootstrap and tar goes to
// .build-logs/base-images.log; a failure prints where. `--quiet`: say nothing when all is there.
import { spawnSync } from 'node:child_process';
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  writeFileSync,
  copyFileSync,
  renameSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const CACHE = process.env.BASE_IMAGE_CACHE ?? '/var/cache/docker-worker';
const MIRROR = process.env.DEBIAN_MIRROR ?? 'http://deb.debian.org/debian';
const TARBALL = join(CACHE, 'bookworm-minbase.tar');
const DEBIAN = 'debian:bookworm-slim';
const NODE = 'node:20-bookworm-slim';

const LOG = join(resolve(dirname(fileURLToPath(import.meta.url)), '../..'), '.build-logs/base-images.log');

const say = (m) => console.log(`base-images: ${m}`);
function fail(m) {
  console.error(`base-images: ${m}`);
  if (existsSync(LOG)) console.error(`base-images: the whole log is ${LOG}`);
  process.exit(1);
}
function run(cmd, args, opts = {}) {
  return spawnSync(cmd, args, { encoding: 'utf8', ...opts });
}
/** Runs a long, chatty command with its output appended to LOG. */
function logged(cmd, args, opts = {}) {
  mkdirSync(dirname(LOG), { recursive: true });
  appendFileSync(LOG, `$ ${cmd} ${args.join(' ')}\n`);
  const r = run(cmd, args, { maxBuffer: 256 * 1024 * 1024, ...opts });
  appendFileSync(LOG, `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? `${r.error.message}\n` : ''}`);
  return r;
}
const present = (name) => run('docker', ['image', 'inspect', name]).status === 0;
function pulls(name) {
  if (process.env.BASE_IMAGE_NO_PULL) return false;
  const r = run('docker', ['pull', '-q', name], { timeout: 60000 });
  return r.status === 0;
}

function rootfsTarball() {
  if (existsSync(TARBALL)) return TARBALL;
  if (process.getuid?.() !== 0) fail(`need root to debootstrap; or provide ${TARBALL}`);
  if (run('sh', ['-c', 'command -v debootstrap']).status !== 0) {
    say('installing debootstrap (apt-get)');
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    logged('apt-get', ['update', '-qq'], { env });
    if (logged('apt-get', ['install', '-y', '-qq', 'debootstrap'], { env }).status !== 0) {
      fail('could not install debootstrap: apt-get install debootstrap');
    }
  }
  mkdirSync(CACHE, { recursive: true });
  const dir = mkdtempSync(join(tmpdir(), 'bookworm-rootfs-'));
  try {
    say(`debootstrap --variant=minbase bookworm from ${MIRROR} (a few minutes, once)`);
    const d = logged('debootstrap', ['--variant=minbase', 'bookworm', dir, MIRROR]);
    if (d.status !== 0) fail(`debootstrap failed (exit ${d.status}); is ${MIRROR} reachable?`);
    // Slim it like the official image: no apt lists, no docs, no caches.
    run('sh', [
      '-c',
      `rm -rf ${dir}/var/lib/apt/lists/* ${dir}/var/cache/apt/*.bin ${dir}/usr/share/doc/* ${dir}/usr/share/man/*`,
    ]);
    writeFileSync(
      join(dir, 'etc/apt/sources.list'),
      `deb ${MIRROR} bookworm main\ndeb ${MIRROR} bookworm-updates main\ndeb http://deb.debian.org/debian-security bookworm-security main\n`,
    );
    const part = `${TARBALL}.part`;
    const t = logged('tar', ['-C', dir, '--numeric-owner', '-cf', part, '.']);
    if (t.status !== 0) fail('could not tar the root filesystem');
    renameSync(part, TARBALL);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return TARBALL;
}

function importDebian() {
  const tar = rootfsTarball();
  say(`docker import ${tar} ${DEBIAN}`);
  const r = run('docker', [
    'import',
    '--change',
    'CMD ["bash"]',
    '--change',
    'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    tar,
    DEBIAN,
  ]);
  if (r.status !== 0) fail(`docker import failed: ${r.stderr.trim()}`);
}

function buildNode() {
  const dir = mkdtempSync(join(tmpdir(), 'node-base-'));
  try {
    copyFileSync(process.execPath, join(dir, 'node'));
    writeFileSync(
      join(dir, 'Dockerfile'),
      `FROM ${DEBIAN}\nCOPY node /usr/local/bin/node\nENV NODE_VERSION=${process.versions.node}\nCMD ["node"]\n`,
    );
    say(`building ${NODE} from ${DEBIAN} + host node ${process.version}`);
    const r = run('docker', ['build', '-q', '-t', NODE, dir]);
    if (r.status !== 0) fail(`building ${NODE} failed: ${r.stderr.trim()}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function ensureBaseImages({ quiet = false } = {}) {
  if (present(DEBIAN) && present(NODE)) {
    if (!quiet) say(`${DEBIAN} and ${NODE} are available`);
    return;
  }
  if (!process.version.startsWith('v20.'))
    say(`warning: host node is ${process.version}, stand-in is labelled node:20`);
  if (!present(DEBIAN) && !pulls(DEBIAN)) importDebian();
  if (!present(NODE) && !pulls(NODE)) buildNode();
  say(`${DEBIAN} and ${NODE} are available`);
}

if (import.meta.url === `file://${process.argv[1]}`)
  ensureBaseImages({ quiet: process.argv.includes('--quiet') });
