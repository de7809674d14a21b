/**
 * R7: a secrets scan of every byte a real queue worker wrote for N tasks, each with
 * taskclusterProxy and an encryptedEnv secret that the task prints in every form the redactor
 * claims to hide (raw; base64 and base64url of the whole value, padded and not; URL-encoded; raw
 * split across two writes of stdout; raw split across stdout and stderr). The worker also holds
 * its own access token, a registry password and a testdroid password (worker config), and each run
 * the task credentials (token, certificate) and the per-run `/credentials` secret, read here from
 * the proxy sidecar's secrets volume while it runs. Scanned for each secret in each claimed form:
 * the task log and every artifact as the queue serves them, the operator log (stderr), the
 * worker's workDir (while the tasks run and after), `docker inspect` of each sidecar and of each
 * task container (the encryptedEnv value excepted there: documented as visible, as docker-worker).
 * Forms the redactor does not claim (hex, base64 not starting at the value) are printed too and
 * reported, not counted.
 */
import { generateWorkerKeys, encryptEnvVar } from '@docker-worker/encrypted-env';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import taskcluster from 'taskcluster-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { docker, newSession } from '../docker.js';
import { QueueSession, type WorkerProcess } from '../queue-harness.js';
import { filesUnder, leaks, runArtifacts, type Source } from './leak-scan.js';
import { runLog } from './queue-util.js';
import { record, scale } from './recorder.js';
import { createTaskWithId } from './task-with-id.js';

const session = newSession();
const TASKS = scale(8, 20);
const WORKER_SECRETS = {
  'worker access token': 'worker-token-0123456789',
  'registry password': `r7-registry-pw-${session}`,
  'testdroid password': `r7-testdroid-pw-${session}`,
};
let q: QueueSession;
let worker: WorkerProcess;
let keyFile: string;
let publicKey: string;
const found: string[] = [];
const unclaimed = new Set<string>();
let scanned = 0;
let secretsChecked = 0;
let tried = 0;
let held = 0;

beforeAll(async () => {
  const keys = await generateWorkerKeys();
  publicKey = keys.publicKey;
  q = await QueueSession.start(`e2e-fault-r7-${session}`);
  keyFile = join(q.dir, 'worker-private.asc');
  writeFileSync(keyFile, keys.privateKey, { mode: 0o600 });
  worker = await q.startWorker({
    capacity: 4,
    keys: { encryptedEnvPrivateKey: keyFile },
    registries: { 'registry.r7.invalid': { username: 'r7', password: WORKER_SECRETS['registry password'] } },
    testdroid: { username: 'r7', password: WORKER_SECRETS['testdroid password'] },
  });
});
afterAll(async () => {
  await q?.close();
  record({
    id: 'R7',
    fault: `secrets scan of ${TASKS} proxied tasks printing their encryptedEnv secret raw, base64, base64url (+/- padding), url-encoded, split over writes and over stdout/stderr; worker token, registry and testdroid passwords, task credentials, /credentials secret`,
    tried,
    held,
    measured: `${secretsChecked} secrets x 6 claimed forms over ${scanned} sources (task logs, artifacts, operator log, workDir, docker inspect of sidecars and task containers): ${found.length} occurrences${found.length ? ` (${found.slice(0, 5).join('; ')})` : ''}; not claimed, printed in clear: ${[...unclaimed].join(', ') || 'none'}`,
  });
});

/** The task: prints $S in each form, then waits for /tmp/go (made by the test after its scan). */
const SCRIPT = String.raw`
printf '%s\n' "$S"
printf '%s' "$S" | base64 -w0; echo
printf '%s' "$S" | base64 -w0 | tr -d =; echo
printf '%s' "$S" | base64 -w0 | tr '+/' '-_' | tr -d =; echo
printf '%s' "$S" | base64 -w0 | tr '+/' '-_'; echo
printf '%s' "$S" | sed -e 's/%/%25/g;s/+/%2B/g;s|/|%2F|g;s/=/%3D/g;s/ /%20/g;s/?/%3F/g;s/&/%26/g'; echo
A=$(printf '%s' "$S" | cut -c1-9); B=$(printf '%s' "$S" | cut -c10-)
printf '%s' "$A"; sleep 0.2; printf '%s\n' "$B"
printf '%s' "$A"; printf '%s\n' "$B" >&2
echo "HEX $(printf '%s' "$S" | od -An -tx1 | tr -d ' \n')"
echo "B64SHIFTED $(printf 'x%s' "$S" | base64 -w0)"
mkdir -p /out; echo artifact > /out/a.txt
while [ ! -e /tmp/go ]; do sleep 0.1; done
echo R7-DONE
`;

/** The files of the proxy sidecar's secrets volume, and its `docker inspect`. */
async function sidecarSecrets(taskId: string): Promise<{ files: Record<string, string>; inspect: string }> {
  const [c] = await docker.listContainers({
    filters: JSON.stringify({
      label: [`org.docker-worker.task-id=${taskId}`, 'org.docker-worker.role=sidecar'],
    }),
  });
  if (!c) throw new Error(`no sidecar of ${taskId}`);
  const inspect = JSON.stringify(await docker.getContainer(c.Id).inspect());
  const mount = c.Mounts.find((m) => m.Destination === '/run/docker-worker-secrets');
  const files: Record<string, string> = {};
  for (const f of mount ? readdirSync(mount.Source) : [])
    files[f] = readFileSync(join(mount!.Source, f), 'utf8').replace(/\n$/, '');
  return { files, inspect };
}

async function exec(containerId: string, cmd: string[]): Promise<void> {
  const e = await docker.getContainer(containerId).exec({ Cmd: cmd });
  const stream = await e.start({});
  stream.resume();
  await new Promise((r) => stream.on('end', r));
}

describe('R7: secrets scan', () => {
  it(`${TASKS} tasks: no secret in any claimed form anywhere the worker wrote`, async () => {
    const tasks: { taskId: string; value: string }[] = [];
    for (let i = 0; i < TASKS; i++) {
      const taskId = taskcluster.slugid();
      // Characters that base64, base64url and URL-encoding each write differently.
      const value = `R7 s3cret+/=${session}-${i}?&`;
      const now = Date.now();
      const msg = await encryptEnvVar({
        publicKey,
        taskId,
        name: 'S',
        value,
        startTime: now - 60_000,
        endTime: now + 3600_000,
      });
      await createTaskWithId(q, taskId, {
        command: ['/bin/bash', '-c', SCRIPT],
        features: { taskclusterProxy: true },
        encryptedEnv: [msg],
        artifacts: { 'public/a.txt': { type: 'file', path: '/out/a.txt' } },
      });
      tasks.push({ taskId, value });
    }
    const perTask: { taskId: string; secrets: Record<string, string>; sources: Source[] }[] = [];
    for (const t of tasks) {
      const container = await q.taskContainer(t.taskId);
      const side = await sidecarSecrets(t.taskId);
      const task = JSON.stringify(await docker.getContainer(container).inspect());
      const secrets: Record<string, string> = { ...WORKER_SECRETS };
      for (const [f, v] of Object.entries(side.files)) if (v.length >= 4) secrets[`sidecar file ${f}`] = v;
      // The certificate is JSON: its signature is the secret part.
      const cert = side.files.certificate
        ? (JSON.parse(side.files.certificate) as { signature?: string })
        : {};
      if (cert.signature) secrets['certificate signature'] = cert.signature;
      expect(Object.keys(side.files).length).toBeGreaterThan(0);
      perTask.push({
        taskId: t.taskId,
        secrets,
        sources: [
          { name: `inspect sidecar ${t.taskId}`, text: side.inspect },
          { name: `inspect task ${t.taskId} (not the encryptedEnv value)`, text: task },
          ...filesUnder(join(q.dir, 'work')),
        ],
      });
      await exec(container, ['touch', '/tmp/go']);
    }
    for (const [i, t] of tasks.entries()) {
      expect(await q.resolved(t.taskId)).toBe('completed');
      const log = await runLog(q, t.taskId);
      expect(log).toContain('R7-DONE');
      const p = perTask[i]!;
      const after = [
        ...(await runArtifacts(q, t.taskId)),
        { name: 'operator log', text: worker.stderr() },
        ...filesUnder(join(q.dir, 'work')),
      ];
      const hits = [
        ...leaks(p.secrets, [...p.sources, ...after]),
        ...leaks({ 'encryptedEnv value': t.value }, after),
      ];
      // The 6 forms and the split over two writes of stdout are each a [secret] line. (Split over
      // stdout and stderr, each stream's redactor holds its half: [secret] or the halves apart.)
      const redacted = log.split('\n').filter((l) => l === '[secret]').length;
      if (redacted < 7) hits.push(`${t.taskId}: only ${redacted} of 7 printed forms redacted`);
      const hex = Buffer.from(t.value).toString('hex');
      if (log.includes(hex)) unclaimed.add('hex');
      if (log.includes(Buffer.from(`x${t.value}`).toString('base64').slice(4, 20)))
        unclaimed.add('base64 at an offset');
      tried++;
      if (hits.length === 0) held++;
      found.push(...hits);
      scanned += p.sources.length + after.length;
      secretsChecked += Object.keys(p.secrets).length + 1;
    }
    expect(found).toEqual([]);
    expect(worker.child.exitCode).toBeNull();
    expect(await q.leftovers()).toEqual({ containers: 0, networks: 0 });
  });
});
