// The last docker-worker's payload (issue #11) end to end through `docker-worker run`: one task
// batching allowPtrace (CapEff has SYS_PTRACE), disableSeccomp (Seccomp: 0), hostSharedMemory (a
// file the task writes in /dev/shm is on the host), pool-suffixed scopes, an exotic env name,
// bulkLog (the gzip holds the log) and features.artifacts false; then allowPtrace without its
// scope, refused before anything runs.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newSession } from './docker.js';
import { RunnerSession, sweepStaleSessions } from './runner-harness.js';

const id = newSession();
const POOL = 'docker-worker/payload-union';
const shmFile = `/dev/shm/docker-worker-e2e-${id}`;
let session: RunnerSession;

beforeAll(async () => {
  session = new RunnerSession(`e2e-union-${id}`, {
    provisionerId: 'docker-worker',
    workerType: 'payload-union',
    capabilities: { disableSeccomp: true },
    deviceManagement: { hostSharedMemory: { enabled: true } },
  });
  await sweepStaleSessions('e2e-union-', session.workerId);
});

afterAll(async () => {
  rmSync(shmFile, { force: true });
  await session.removeAll();
  expect(await session.leftovers()).toEqual({ containers: 0, networks: 0 });
});

const SYS_PTRACE = 19n; // linux/capability.h

describe('payload union (the last docker-worker v99 payload)', () => {
  it('runs allowPtrace, disableSeccomp, hostSharedMemory, an exotic env name, bulkLog, artifacts: false', async () => {
    const script = [
      'grep -E "^(CapEff|Seccomp):" /proc/self/status',
      `echo shared > ${shmFile}`,
      'env | grep "^my-var.1="',
      'echo "pool=$TASKCLUSTER_WORKER_POOL ip=[$TASKCLUSTER_PUBLIC_IP]"',
      'echo x > /tmp/a.txt',
    ].join(' && ');
    const r = await session.run({
      scopes: [
        'docker-worker:feature:allowPtrace',
        `docker-worker:capability:disableSeccomp:${POOL}`,
        `docker-worker:capability:device:hostSharedMemory:${POOL}`,
      ],
      payload: {
        image: 'debian:bookworm-slim',
        maxRunTime: 60,
        env: { 'my-var.1': 'exotic' },
        features: { allowPtrace: true, bulkLog: true, artifacts: false },
        capabilities: { disableSeccomp: true, devices: { hostSharedMemory: true } },
        artifacts: { 'public/a.txt': { type: 'file', path: '/tmp/a.txt' } },
        command: ['/bin/bash', '-c', script],
      },
    });
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.code).toBe(0);
    const capEff = /CapEff:\s+([0-9a-f]+)/.exec(r.stdout)?.[1];
    expect(capEff).toBeDefined();
    expect((BigInt(`0x${capEff}`) >> SYS_PTRACE) & 1n).toBe(1n);
    expect(r.stdout).toMatch(/Seccomp:\s+0\b/);
    expect(readFileSync(shmFile, 'utf8')).toBe('shared\n');
    expect(r.stdout).toContain('my-var.1=exotic');
    expect(r.stdout).toContain(`pool=${POOL} ip=[]`);
    // The header in the last docker-worker's order, the footer last.
    const worker = r.stdout.split('\n').filter((l) => l.startsWith('[taskcluster'));
    const keys = worker.slice(0, 10).map((l) => /\] ([^:]+):/.exec(l)?.[1]);
    expect(keys).toEqual([
      'Task ID',
      'Worker ID',
      'Worker Group',
      'Worker Node Type',
      'Worker Pool',
      'Worker Version',
      'Public IP',
      'Hostname',
      'Worker Type',
      'Run ID',
    ]);
    expect(worker[4]).toContain(`Worker Pool: ${POOL}`);
    expect(worker[5]).toMatch(/Worker Version: \d+\.\d+\.\d+/);
    expect(worker.at(-1)).toMatch(/Successful task run with exit code: 0 completed in [0-9.]+ seconds$/);
    // features.artifacts false: the file artifact is not uploaded; the logs are.
    const names = r.result.artifacts.map((a) => a.name).sort();
    expect(names).toEqual(['public/logs/live_backing.log', 'public/logs/terminal_bulk.log.gz']);
    const bulk = r.result.artifacts.find((a) => a.name.endsWith('terminal_bulk.log.gz'));
    const log = gunzipSync(readFileSync(bulk?.path ?? '')).toString();
    expect(log).toContain('my-var.1=exotic');
    expect(log).toMatch(/Successful task run with exit code: 0/);
    expect(existsSync(join(r.artifactsDir, 'public/a.txt'))).toBe(false);
  });

  it('refuses allowPtrace without its scope, and hostSharedMemory without the pool or plain scope', async () => {
    const r = await session.run({
      scopes: ['docker-worker:capability:device:hostSharedMemory:other/pool'],
      payload: {
        image: 'debian:bookworm-slim',
        maxRunTime: 60,
        features: { allowPtrace: true },
        capabilities: { devices: { hostSharedMemory: true } },
        command: ['true'],
      },
    });
    expect(r.code).toBe(2);
    expect(r.result).toMatchObject({ state: 'exception', reasonResolved: 'malformed-payload' });
    expect(r.stdout).toMatch(
      /Try adding docker-worker:capability:device:hostSharedMemory \(or docker-worker:capability:device:hostSharedMemory:docker-worker\/payload-union\)/,
    );
    const ptrace = await session.run({
      payload: {
        image: 'debian:bookworm-slim',
        maxRunTime: 60,
        features: { allowPtrace: true },
        command: ['true'],
      },
    });
    expect(ptrace.code).toBe(2);
    expect(ptrace.stdout).toContain(
      "Insufficient scopes to use 'allowPtrace'. Try adding docker-worker:feature:allowPtrace",
    );
  });
});
