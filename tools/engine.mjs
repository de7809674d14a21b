#!/usr/bin/env node
// Ensures a Docker engine answers. Plain Node, no dependencies: runs before `npm ci`.
//
// 1. `docker info` answers, or DOCKER_HOST is set  -> use that engine.
// 2. root on Debian: install docker.io if dockerd is missing, clear a stale pid file,
//    start dockerd in the background (log in /var/log/docker-worker-dockerd.log), hardened with
//    --icc=false (containers on the default bridge cannot reach each other; the worker then runs
//    tasks without sidecars there, see packages/runner/README.md, performance),
//    wait up to ENGINE_WAIT_SECONDS (default 60) for the socket to answer.
// 3. otherwise: one line saying what to install or start, exit 1.
import { spawnSync, spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync, openSync } from 'node:fs';

const DOCKERD_LOG = '/var/log/docker-worker-dockerd.log';
const PID_FILE = '/var/run/docker.pid';

function run(cmd, args, opts = {}) {
  return spawnSync(cmd, args, { encoding: 'utf8', ...opts });
}

function has(cmd) {
  return run('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

function engineAnswers() {
  if (!has('docker')) return false;
  return run('docker', ['info', '--format', '{{.ServerVersion}}'], { timeout: 15000 }).status === 0;
}

function fail(message) {
  console.error(`engine: ${message}`);
  process.exit(1);
}

function processAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export async function ensureEngine({ quiet = false } = {}) {
  const say = (m) => quiet || console.log(`engine: ${m}`);
  if (process.env.DOCKER_HOST) {
    say(`using DOCKER_HOST=${process.env.DOCKER_HOST}`);
    return;
  }
  if (engineAnswers()) {
    say('a Docker engine answers');
    return;
  }
  const isRoot = process.getuid?.() === 0;
  const isDebian = existsSync('/etc/debian_version');
  if (!isRoot || !isDebian) {
    fail(
      'no Docker engine answers; install Docker and start it (e.g. `sudo systemctl start docker`), or set DOCKER_HOST',
    );
  }
  if (!has('dockerd')) {
    say('installing Debian package docker.io (apt-get)');
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    const upd = run('apt-get', ['update', '-qq'], { env, stdio: 'inherit' });
    if (upd.status !== 0)
      fail('`apt-get update` failed; install docker.io by hand: apt-get install docker.io');
    const inst = run('apt-get', ['install', '-y', '-qq', 'docker.io'], { env, stdio: 'inherit' });
    if (inst.status !== 0)
      fail('`apt-get install docker.io` failed; install Docker by hand and start dockerd');
  }
  if (existsSync(PID_FILE)) {
    const pid = Number(readFileSync(PID_FILE, 'utf8').trim());
    if (pid && processAlive(pid)) {
      say(`dockerd (pid ${pid}) is running but not answering yet; waiting`);
    } else {
      say(`removing stale ${PID_FILE}`);
      rmSync(PID_FILE, { force: true });
    }
  }
  if (!existsSync(PID_FILE)) {
    say(`starting dockerd in the background (log: ${DOCKERD_LOG})`);
    const log = openSync(DOCKERD_LOG, 'a');
    const child = spawn('dockerd', ['--icc=false'], { detached: true, stdio: ['ignore', log, log] });
    child.unref();
  }
  const limit = Number(process.env.ENGINE_WAIT_SECONDS ?? 60);
  const deadline = Date.now() + limit * 1000;
  while (Date.now() < deadline) {
    if (engineAnswers()) {
      say('dockerd is up');
      return;
    }
    await sleep(500);
  }
  fail(`dockerd did not answer within ${limit}s; see ${DOCKERD_LOG}`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await ensureEngine();
}
