/**
 * R9: every restricted payload key (enumerated from the runner's features: the `requiredScopes` and
 * `isEnabled` of features/*.ts, the scope checks of capabilities.ts and caches.ts, the signing key
 * of chain-of-trust.ts, the image sources' scopes) asked for by a task without its scope, or on a worker whose config does not
 * allow it, through a real queue worker. Each resolves exception/malformed-payload and its task log
 * names what is missing: the scope, the config key, or (for a feature switched off in
 * `features.<name>.enabled`) the feature; the container never runs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Json } from 'taskcluster-client';
import { newSession } from '../docker.js';
import { QueueSession } from '../queue-harness.js';
import { runLog } from './queue-util.js';
import { percentile, record, since } from './recorder.js';

const session = newSession();
let q: QueueSession;
const bad: string[] = [];
const times: number[] = [];
let tried = 0;
let held = 0;

interface Case {
  name: string;
  payload: Record<string, unknown>;
  scopes?: string[];
  /** Text the task log's error must hold. */
  names: string;
}

const CAP = 'docker-worker:capability:';
const device = (d: string): Record<string, unknown> => ({ capabilities: { devices: { [d]: true } } });

/** Worker A: every switch off (features.<name>.enabled false, no privileged/seccomp/devices, no balrog/testdroid config). */
const CONFIG_OFF: Case[] = [
  ...['taskclusterProxy', 'allowPtrace', 'interactive', 'chainOfTrust', 'bulkLog'].map((f) => ({
    name: `features.${f} with features.${f}.enabled false`,
    payload: { features: { [f]: true } },
    scopes: [`docker-worker:feature:${f}`],
    names: `the feature '${f}' is not enabled on this worker (worker config: features.${f}.enabled)`,
  })),
  {
    name: 'features.balrogVPNProxy without balrog.vpnConfigDir',
    payload: { features: { balrogVPNProxy: true } },
    scopes: ['docker-worker:feature:balrogVPNProxy'],
    names:
      "the feature 'balrogVPNProxy' is not enabled on this worker (worker config: balrog.proxiedServer and balrog.vpnConfigDir",
  },
  {
    name: 'features.testdroidProxy without testdroid.username/password',
    payload: { features: { testdroidProxy: true } },
    names:
      "the feature 'testdroidProxy' is not enabled on this worker (worker config: testdroid.username and testdroid.password)",
  },
  {
    name: 'capabilities.privileged, capabilities.privileged false',
    payload: { capabilities: { privileged: true } },
    scopes: [`${CAP}privileged`],
    names: 'worker config capabilities.privileged / dockerConfig.allowPrivileged is false',
  },
  {
    name: 'capabilities.disableSeccomp, capabilities.disableSeccomp false',
    payload: { capabilities: { disableSeccomp: true } },
    scopes: [`${CAP}disableSeccomp`],
    names: 'worker config capabilities.disableSeccomp is false',
  },
  ...['loopbackVideo', 'loopbackAudio', 'hostSharedMemory', 'kvm'].map((d) => ({
    name: `devices.${d}, deviceManagement.${d}.enabled false`,
    payload: device(d),
    scopes: [`${CAP}device:${d}`],
    names: `deviceManagement.${d}.enabled`,
  })),
];

/** Worker B: every switch on; the task lacks the scope (or the worker its signing key). */
const SCOPE_MISSING: Case[] = [
  ...['allowPtrace', 'interactive', 'balrogVPNProxy'].map((f) => ({
    name: `features.${f} without its scope`,
    payload: { features: { [f]: true } },
    names: `docker-worker:feature:${f}`,
  })),
  ...['privileged', 'disableSeccomp'].map((c) => ({
    name: `capabilities.${c} without its scope`,
    payload: { capabilities: { [c]: true } },
    names: `${CAP}${c} (or ${CAP}${c}:`,
  })),
  ...['loopbackVideo', 'loopbackAudio', 'hostSharedMemory', 'kvm'].map((d) => ({
    name: `devices.${d} without its scope`,
    payload: device(d),
    names: `${CAP}device:${d} (or ${CAP}device:${d}:`,
  })),
  {
    name: 'a cache without its scope',
    payload: { cache: { 'r9-cache': '/cache' } },
    names: 'docker-worker:cache:r9-cache (or docker-worker:cache:r9-cache:',
  },
  {
    name: "a cache with another pool's scope",
    payload: { cache: { 'r9-cache': '/cache' } },
    scopes: ['docker-worker:cache:r9-cache:some/other-pool'],
    names: 'docker-worker:cache:r9-cache (or docker-worker:cache:r9-cache:',
  },
  {
    name: 'an image of a configured registry without docker-worker:image:<name>',
    payload: { image: 'registry.r9.invalid/app:1' },
    names: 'docker-worker:image:registry.r9.invalid/app:1',
  },
  {
    name: 'a private task-image without queue:get-artifact:<path>',
    payload: {
      image: { type: 'task-image', taskId: 'fN1SbArXTPSVFNUvaOlinQ', path: 'private/r9/image.tar.zst' },
    },
    names: 'queue:get-artifact:private/r9/image.tar.zst',
  },
  {
    name: 'features.chainOfTrust without keys.ed25519SigningKey',
    payload: { features: { chainOfTrust: true } },
    names: 'keys.ed25519SigningKey',
  },
];

beforeAll(async () => {
  q = await QueueSession.start(`e2e-fault-r9-${session}`);
});
afterAll(async () => {
  await q?.close();
  record({
    id: 'R9',
    fault: `restricted features/capabilities/devices/caches/images: ${CONFIG_OFF.length} with the worker config off, ${SCOPE_MISSING.length} without the scope or key`,
    tried,
    held,
    measured: `each malformed-payload naming the scope (capability, device and cache scopes with their :<pool> form) or config key (features.<name>.enabled, balrog.*, testdroid.*); container never ran; refused p50 ${percentile(times, 0.5)} ms, max ${Math.max(0, ...times)} ms${bad.length ? `; NOT HELD: ${bad.join('; ')}` : ''}`,
  });
});

/** Runs `cases` on a worker of `config`; checks each; stops the worker. */
async function runCases(cases: Case[], config: Record<string, unknown>): Promise<void> {
  const worker = await q.startWorker({ capacity: 4, ...config });
  const tasks: { c: Case; taskId: string; start: number }[] = [];
  for (const c of cases) {
    const start = performance.now();
    const payload = { command: ['/bin/sh', '-c', 'echo R9-RAN'], ...c.payload } as Json;
    const taskId = await q.createTask(payload, { scopes: c.scopes ?? [] });
    tasks.push({ c, taskId, start });
  }
  for (const { c, taskId, start } of tasks) {
    tried++;
    const state = await q.resolved(taskId);
    times.push(Math.round(since(start)));
    const log = await runLog(q, taskId);
    const error = log.split('\n').find((l) => l.startsWith('[taskcluster:error]')) ?? '';
    const wrong = [
      ...(state === 'exception/malformed-payload' ? [] : [state]),
      ...(error.includes(c.names) ? [] : [`error line ${JSON.stringify(error.slice(0, 160))}`]),
      ...(log.includes('R9-RAN') ? ['the container ran'] : []),
    ];
    if (wrong.length === 0) held++;
    else bad.push(`${c.name}: ${wrong.join(', ')}`);
  }
  expect(worker.child.exitCode).toBeNull();
  worker.child.kill('SIGTERM');
  expect(await worker.exited).toBe(0);
}

describe('R9: restricted payload keys', () => {
  it(`${CONFIG_OFF.length} on a worker whose config does not allow them`, async () => {
    const off = Object.fromEntries(
      ['taskclusterProxy', 'allowPtrace', 'interactive', 'chainOfTrust', 'bulkLog'].map((f) => [
        f,
        { enabled: false },
      ]),
    );
    await runCases(CONFIG_OFF, { features: off, balrog: { vpnConfigDir: `${q.dir}/no-vpn-config` } });
    expect(bad).toEqual([]);
  });

  it(`${SCOPE_MISSING.length} without their scope, on a worker that allows them`, async () => {
    const on = Object.fromEntries(
      ['loopbackVideo', 'loopbackAudio', 'hostSharedMemory', 'kvm'].map((d) => [d, { enabled: true }]),
    );
    await runCases(SCOPE_MISSING, {
      capabilities: { privileged: true, disableSeccomp: true },
      deviceManagement: on,
      balrog: { vpnConfigDir: q.dir },
      registries: { 'registry.r9.invalid': { username: 'r9', password: 'r9-registry-password' } },
    });
    expect(bad).toEqual([]);
    expect(await q.leftovers()).toEqual({ containers: 0, networks: 0 });
  });
});
