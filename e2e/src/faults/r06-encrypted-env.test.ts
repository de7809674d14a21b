/**
 * R6: encrypted env abuse through a real worker (queue mode): a message for another task, expired,
 * not yet valid, a reserved name, a duplicate (of payload.env and of another message), a bad
 * version, garbage (not base64; base64 but not OpenPGP; encrypted to another key), a variable too
 * large for Linux (600 KiB, the biggest a createTask body carries), and a 10 MiB message through
 * `docker-worker run`. Each is exception/malformed-payload with an incident id in the task log (the
 * same id in the operator log); its plaintext (a unique marker) is in no form the redactor knows in
 * the task log, any artifact, the operator log or the worker's workDir; the worker stays up.
 */
import { encryptEnvVar, generateWorkerKeys } from '@docker-worker/encrypted-env';
import * as openpgp from 'openpgp';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import taskcluster, { type Json } from 'taskcluster-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newSession } from '../docker.js';
import { QueueSession, type WorkerProcess } from '../queue-harness.js';
import { RunnerSession } from '../runner-harness.js';
import { filesUnder, leaks, runArtifacts } from './leak-scan.js';
import { runLog } from './queue-util.js';
import { createTaskWithId } from './task-with-id.js';
import { percentile, record, scale, since } from './recorder.js';

const session = newSession();
const ROUNDS = scale(1, 3);
const HOUR = 3600_000;
let keys: { privateKey: string; publicKey: string };
let other: { publicKey: string };
let keyFile: string;
let q: QueueSession;
let worker: WorkerProcess;
let tried = 0;
let held = 0;
const times: number[] = [];
const bad: string[] = [];
let bigFigure = 'not run';

beforeAll(async () => {
  [keys, other] = await Promise.all([generateWorkerKeys(), generateWorkerKeys()]);
  q = await QueueSession.start(`e2e-fault-r6-${session}`);
  keyFile = join(q.dir, 'worker-private.asc');
  writeFileSync(keyFile, keys.privateKey, { mode: 0o600 });
  worker = await q.startWorker({ capacity: 4, keys: { encryptedEnvPrivateKey: keyFile } });
});
afterAll(async () => {
  await q?.close();
  record({
    id: 'R6',
    fault:
      'encryptedEnv abuse: wrong taskId, expired, future, reserved, duplicate x2, bad version, garbage x3, 600 KiB (queue), 10 MiB (run)',
    tried,
    held,
    measured: `each malformed-payload with an incident id (also in the operator log), marker in no form in logs/artifacts/operator log/workDir; refused in p50 ${percentile(times, 0.5)} ms, max ${Math.max(0, ...times)} ms (createTask → resolved); 10 MiB: ${bigFigure}${bad.length ? `; NOT HELD: ${bad.join('; ')}` : ''}`,
  });
});

/** A message encrypted as a task author would, of any version and to any key (`encryptEnvVar` makes only 1). */
async function encryptJson(
  publicKey: string,
  taskId: string,
  value: string,
  messageVersion: number,
): Promise<string> {
  const now = Date.now();
  const json = { messageVersion, taskId, startTime: now - 60_000, endTime: now + HOUR, name: 'S', value };
  const bytes = await openpgp.encrypt({
    message: await openpgp.createMessage({ text: JSON.stringify(json) }),
    encryptionKeys: await openpgp.readKey({ armoredKey: publicKey }),
    format: 'binary',
  });
  return Buffer.from(bytes).toString('base64');
}

interface Abuse {
  name: string;
  /** What the task log must say (before `; incidentId: <uuid>`). */
  says: RegExp;
  payload(taskId: string, marker: string): Promise<Record<string, unknown>>;
}

const msg = (taskId: string, name: string, value: string, start = -60_000, end = HOUR) => {
  const now = Date.now();
  return encryptEnvVar({
    publicKey: keys.publicKey,
    taskId,
    name,
    value,
    startTime: now + start,
    endTime: now + end,
  });
};

const ABUSES: Abuse[] = [
  {
    name: 'wrong taskId',
    says: /the taskId of the env payload does not match the taskId of the task/,
    payload: async (_t, m) => ({ encryptedEnv: [await msg('someOtherTaskId0000000', 'S', m)] }),
  },
  {
    name: 'expired',
    says: /the end time in the env payload is in the past/,
    payload: async (t, m) => ({ encryptedEnv: [await msg(t, 'S', m, -2 * HOUR, -HOUR)] }),
  },
  {
    name: 'future',
    says: /the start time in the env payload is in the future/,
    payload: async (t, m) => ({ encryptedEnv: [await msg(t, 'S', m, HOUR, 2 * HOUR)] }),
  },
  {
    name: 'reserved name TASK_ID',
    says: /an environment variable conflicts with an existing environment variable/,
    payload: async (t, m) => ({ encryptedEnv: [await msg(t, 'TASK_ID', m)] }),
  },
  {
    name: 'duplicate of payload.env',
    says: /an environment variable has been duplicated in the task payload/,
    payload: async (t, m) => ({ env: { S: 'plain' }, encryptedEnv: [await msg(t, 'S', m)] }),
  },
  {
    name: 'duplicate of another message',
    says: /an environment variable has been duplicated in the task payload/,
    payload: async (t, m) => ({ encryptedEnv: [await msg(t, 'S', `${m}-a`), await msg(t, 'S', m)] }),
  },
  {
    name: 'bad version',
    says: /the version of the message is not supported/,
    payload: async (t, m) => ({ encryptedEnv: [await encryptJson(keys.publicKey, t, m, 2)] }),
  },
  {
    name: 'not base64',
    says: /encryptedEnv\[0\] is not base64/,
    payload: (_t, m) => Promise.resolve({ encryptedEnv: [`!${m}!`] }),
  },
  {
    name: 'base64, not OpenPGP',
    says: /encryptedEnv\[0\] is not an OpenPGP message/,
    payload: (_t, m) => Promise.resolve({ encryptedEnv: [Buffer.from(m).toString('base64')] }),
  },
  {
    name: "another worker's key",
    says: /encryptedEnv\[0\] could not be decrypted with the worker's private key/,
    payload: async (t, m) => ({ encryptedEnv: [await encryptJson(other.publicKey, t, m, 1)] }),
  },
  {
    name: '600 KiB variable',
    says: /a decrypted variable is larger than 131072 bytes/,
    payload: async (t, m) => ({ encryptedEnv: [await msg(t, 'S', `${m}${'x'.repeat(600 * 1024)}`)] }),
  },
];

const INCIDENT = /; incidentId: ([0-9a-f-]{36})/;

/** What must hold for one refused message; a list of what did not. */
function check(log: string, says: RegExp, operatorLog: string): string[] {
  const wrong: string[] = [];
  const line = log.split('\n').find((l) => says.test(l)) ?? '';
  const incident = INCIDENT.exec(line)?.[1];
  if (!line.startsWith('[taskcluster:error]')) wrong.push(`no error line matching ${String(says)}`);
  else if (!incident) wrong.push('no incident id');
  else if (!operatorLog.includes(incident)) wrong.push('incident id not in the operator log');
  return wrong;
}

describe('R6: encrypted env abuse', () => {
  it(`${ABUSES.length} abuses x ${ROUNDS} through a queue worker: malformed-payload, incident id, no plaintext`, async () => {
    const tasks: { abuse: Abuse; taskId: string; marker: string; start: number }[] = [];
    for (let round = 0; round < ROUNDS; round++)
      for (const [i, abuse] of ABUSES.entries()) {
        const taskId = taskcluster.slugid();
        const marker = `R6-marker-${session}-${round}-${i}`;
        const start = performance.now();
        await createTaskWithId(q, taskId, {
          command: ['true'],
          ...(await abuse.payload(taskId, marker)),
        } as Json);
        tasks.push({ abuse, taskId, marker, start });
      }
    for (const t of tasks) {
      tried++;
      const state = await q.resolved(t.taskId);
      times.push(Math.round(since(t.start)));
      const log = await runLog(q, t.taskId);
      const wrong =
        state === 'exception/malformed-payload' ? check(log, t.abuse.says, worker.stderr()) : [state];
      const sources = [
        ...(await runArtifacts(q, t.taskId)),
        { name: 'operator log', text: worker.stderr() },
        ...filesUnder(join(q.dir, 'work')),
      ];
      wrong.push(...leaks({ marker: t.marker }, sources));
      if (wrong.length === 0) held++;
      else bad.push(`${t.abuse.name}: ${wrong.join(', ')}`);
    }
    expect(bad).toEqual([]);
    // The worker is up and still runs tasks with encrypted env.
    expect(worker.child.exitCode).toBeNull();
    const okId = taskcluster.slugid();
    const value = `R6-good-${session}`;
    await createTaskWithId(q, okId, {
      command: ['/bin/sh', '-c', 'echo "S=$S"'],
      encryptedEnv: [await msg(okId, 'S', value)],
    });
    expect(await q.resolved(okId)).toBe('completed');
    expect(await runLog(q, okId)).toContain('S=[secret]\n');
    expect(await q.leftovers()).toEqual({ containers: 0, networks: 0 });
  });

  it('a 10 MiB message through docker-worker run: refused with an incident id, nothing printed', async () => {
    const run = new RunnerSession(`e2e-fault-r6l-${session}`, { keys: { encryptedEnvPrivateKey: keyFile } });
    try {
      const taskId = taskcluster.slugid();
      const marker = `R6-big-${session}`;
      const value = `${marker}${'y'.repeat(10 * 1024 * 1024)}`;
      const encryptedEnv = [await msg(taskId, 'BIG', value)];
      tried++;
      const start = performance.now();
      const r = await run.run(
        { payload: { image: 'debian:bookworm-slim', maxRunTime: 60, command: ['true'], encryptedEnv } },
        { taskId },
      );
      const ms = Math.round(since(start));
      expect(r.code).toBe(2);
      expect(r.result).toMatchObject({ state: 'exception', reasonResolved: 'malformed-payload' });
      // Past the decryption bound (1 MiB of plaintext), before the variable-size check.
      const wrong = check(r.stdout, /encryptedEnv\[0\] decrypts to more than 1 MiB/, r.stderr);
      wrong.push(
        ...leaks({ marker }, [
          { name: 'stdout', text: r.stdout },
          { name: 'stderr', text: r.stderr },
          ...filesUnder(r.artifactsDir),
          ...filesUnder(join(run.dir, 'work')),
        ]),
      );
      expect(wrong).toEqual([]);
      expect(await run.leftovers()).toEqual({ containers: 0, networks: 0 });
      held++;
      bigFigure = `${(encryptedEnv[0]!.length / 2 ** 20).toFixed(1)} MiB base64 refused in ${ms} ms (whole CLI run), exit 2`;
    } finally {
      await run.removeAll();
    }
  });
});
