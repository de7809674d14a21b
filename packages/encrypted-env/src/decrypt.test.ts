import { beforeAll, describe, expect, it } from 'vitest';
import { decryptEnvVars, EncryptedEnvError, encryptEnvVar, readPrivateKey } from './index.js';
import type { EncryptedEnvIncident, EncryptedEnvRule, PrivateKey } from './index.js';
import { DECRYPT_FAILED, MAX_PLAINTEXT_BYTES } from './decrypt.js';
import { eccKeys, encryptRaw } from '../test-support/pgp.js';
import { expectSecretAbsent } from '../test-support/secrets.js';

const TASK = 'fN1SbArXTPSVFNUvaOlinQ';
const NOW = 1_700_000_000_000;
const SECRET = 'hunter2-Sup3r-S3cret-VALUE';
const NAME = 'SECRET_TOKEN_NAME';

let keys: { privateKey: string; publicKey: string };
let privateKey: PrivateKey;

beforeAll(async () => {
  keys = await eccKeys();
  privateKey = await readPrivateKey(keys.privateKey);
});

function message(overrides: Record<string, unknown> = {}): string {
  return JSON.stringify({
    messageVersion: 1,
    taskId: TASK,
    startTime: NOW - 1000,
    endTime: NOW + 1000,
    name: NAME,
    value: SECRET,
    ...overrides,
  });
}

async function decrypt(
  encryptedEnv: string[],
  extra: { env?: Record<string, string>; reservedNames?: string[]; now?: number } = {},
) {
  const incidents: EncryptedEnvIncident[] = [];
  const run = decryptEnvVars({
    privateKey,
    taskId: TASK,
    env: extra.env ?? {},
    encryptedEnv,
    now: extra.now ?? NOW,
    ...(extra.reservedNames ? { reservedNames: extra.reservedNames } : {}),
    onIncident: (i) => incidents.push(i),
  });
  return { run, incidents };
}

/** Runs, expects a violation of `rule` at `index`, and checks that the secret (and name) stay out of it. */
async function expectViolation(
  encryptedEnv: string[],
  rule: EncryptedEnvRule,
  opts: { index?: number; env?: Record<string, string>; reservedNames?: string[]; nameHidden?: boolean } = {},
) {
  const { run, incidents } = await decrypt(encryptedEnv, opts);
  const err = await run.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(EncryptedEnvError);
  const e = err as EncryptedEnvError;
  expect(e.rule).toBe(rule);
  expect(e.index).toBe(opts.index ?? 0);
  expect(e.message).toMatch(
    /^secret data violation -- .+; incidentId: [0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
  );
  expect(e.message).toContain(e.incidentId);
  expectSecretAbsent(e, SECRET);
  if (opts.nameHidden !== false) expectSecretAbsent(e, NAME);
  expect(incidents).toHaveLength(1);
  expect(incidents[0]?.incidentId).toBe(e.incidentId);
  expect(JSON.stringify(incidents)).not.toContain(SECRET);
  return { err: e, incident: incidents[0] as EncryptedEnvIncident };
}

describe('decryptEnvVars round trip', () => {
  it('merges payload.env with the decrypted variables, in order', async () => {
    const encryptedEnv = await Promise.all(
      [
        ['TOKEN', 'abc'],
        ['MULTI', 'line one\nline two\n'],
        ['UNICODE', 'grüße ✓ 🚀'],
        ['EMPTY', ''],
      ].map(([name, value]) =>
        encryptEnvVar({
          publicKey: keys.publicKey,
          taskId: TASK,
          name: name!,
          value: value!,
          startTime: NOW - 1,
          endTime: NOW + 1,
        }),
      ),
    );
    const env = await decryptEnvVars({
      privateKey,
      taskId: TASK,
      env: { PLAIN: 'p' },
      encryptedEnv,
      now: NOW,
    });
    expect(env).toEqual({
      PLAIN: 'p',
      TOKEN: 'abc',
      MULTI: 'line one\nline two\n',
      UNICODE: 'grüße ✓ 🚀',
      EMPTY: '',
    });
    expect(Object.keys(env)).toEqual(['PLAIN', 'TOKEN', 'MULTI', 'UNICODE', 'EMPTY']);
  });

  it('accepts the armored private key text, an absent payload.env, and no messages', async () => {
    expect(
      await decryptEnvVars({
        privateKey: keys.privateKey,
        taskId: TASK,
        env: undefined,
        encryptedEnv: [],
        now: NOW,
      }),
    ).toEqual({});
    expect(
      await decryptEnvVars({ privateKey, taskId: TASK, env: { A: '1' }, encryptedEnv: undefined, now: NOW }),
    ).toEqual({ A: '1' });
    const one = await encryptEnvVar({
      publicKey: keys.publicKey,
      taskId: TASK,
      name: 'A',
      value: 'b',
      startTime: NOW,
      endTime: NOW,
    });
    expect(
      await decryptEnvVars({
        privateKey: keys.privateKey,
        taskId: TASK,
        env: undefined,
        encryptedEnv: [one],
        now: NOW,
      }),
    ).toEqual({ A: 'b' });
  });

  it('accepts startTime == now and endTime == now (no clock-skew allowance, inclusive bounds)', async () => {
    const m = await encryptRaw(keys.publicKey, message({ startTime: NOW, endTime: NOW }));
    expect(await decryptEnvVars({ privateKey, taskId: TASK, env: {}, encryptedEnv: [m], now: NOW })).toEqual({
      [NAME]: SECRET,
    });
  });

  it('accepts messageVersion "1" as a string, as upstream did', async () => {
    const m = await encryptRaw(keys.publicKey, message({ messageVersion: '1' }));
    expect(await decryptEnvVars({ privateKey, taskId: TASK, env: {}, encryptedEnv: [m], now: NOW })).toEqual({
      [NAME]: SECRET,
    });
  });

  it("keeps Node's lenient base64: line breaks, missing padding, URL-safe alphabet", async () => {
    const m = await encryptRaw(keys.publicKey, message());
    const wrapped = m.replace(/(.{76})/g, '$1\n');
    const unpadded = m.replace(/=+$/, '');
    const urlSafe = m.replace(/\+/g, '-').replace(/\//g, '_');
    for (const variant of [wrapped, unpadded, urlSafe, ` ${m}\n`]) {
      expect(
        await decryptEnvVars({ privateKey, taskId: TASK, env: {}, encryptedEnv: [variant], now: NOW }),
      ).toEqual({ [NAME]: SECRET });
    }
  });

  it('decrypts 100 variables with one key read', async () => {
    const encryptedEnv = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        encryptEnvVar({
          publicKey: keys.publicKey,
          taskId: TASK,
          name: `VAR_${i}`,
          value: `value-${i}`,
          startTime: NOW,
          endTime: NOW + 1,
        }),
      ),
    );
    const env = await decryptEnvVars({ privateKey, taskId: TASK, env: {}, encryptedEnv, now: NOW });
    expect(Object.keys(env)).toHaveLength(100);
    expect(env.VAR_99).toBe('value-99');
  });
});

describe('decryptEnvVars rules (one test each, secret never in the error)', () => {
  it('base64: characters outside base64, a non-string entry, or nothing at all', async () => {
    await expectViolation([`${SECRET}!*`], 'base64', { nameHidden: false });
    await expectViolation([42 as unknown as string], 'base64');
    await expectViolation(['===='], 'base64');
  });

  it('openpgp: base64 of bytes that are not an OpenPGP message', async () => {
    const { err } = await expectViolation(
      [Buffer.from(`{"value":"${SECRET}"}`).toString('base64')],
      'openpgp',
    );
    expect(err.message).toContain('encryptedEnv[0] is not an OpenPGP message');
  });

  it('decrypt: a message encrypted to another key', async () => {
    const other = await eccKeys();
    const { err, incident } = await expectViolation(
      [await encryptRaw(other.publicKey, message())],
      'decrypt',
    );
    // One error for every decryption failure: no cause, one detail (see rsa-session-key.test.ts).
    expect(err.cause).toBeUndefined();
    expect(incident.detail).toBe(DECRYPT_FAILED);
  });

  it('size: a message whose plaintext passes 1 MiB, compressed (a bomb) or not; 1 MiB itself decrypts', async () => {
    const padded = (bytes: number) => message({ value: SECRET + 'x'.repeat(bytes - message().length) });
    // 64 MiB of plaintext in a message of ~70 KB: decompression stops at 1 MiB.
    const bomb = await encryptRaw(keys.publicKey, padded(64 * 2 ** 20), { compressed: true });
    expect(bomb.length).toBeLessThan(200_000);
    const { err, incident } = await expectViolation([bomb], 'size');
    expect(err.message).toContain('encryptedEnv[0] decrypts to more than 1 MiB');
    expect(incident.detail).toBe(
      `the plaintext passes ${MAX_PLAINTEXT_BYTES} bytes (decompression stopped there)`,
    );
    await expectViolation([await encryptRaw(keys.publicKey, padded(MAX_PLAINTEXT_BYTES + 1))], 'size');
    for (const compressed of [false, true]) {
      const { run } = await decrypt([
        await encryptRaw(keys.publicKey, padded(MAX_PLAINTEXT_BYTES), { compressed }),
      ]);
      expect((await run)[NAME]).toHaveLength(SECRET.length + MAX_PLAINTEXT_BYTES - message().length);
    }
  });

  it('json: plaintext that is not JSON (JSON.parse would quote it)', async () => {
    const { incident } = await expectViolation(
      [await encryptRaw(keys.publicKey, `${SECRET} is not JSON`)],
      'json',
    );
    expect(incident.detail).not.toContain(SECRET);
  });

  it('json: plaintext that is JSON but not an object, or not UTF-8', async () => {
    await expectViolation([await encryptRaw(keys.publicKey, JSON.stringify([SECRET]))], 'json');
    await expectViolation([await encryptRaw(keys.publicKey, new Uint8Array([0xff, 0xfe, 0x7b]))], 'json');
  });

  it('shape: value not a string, name not an environment name, fields missing or of the wrong type', async () => {
    for (const bad of [
      { value: 12345 },
      { name: `A=${SECRET}` },
      { name: '' },
      { name: 'A\u0000B' },
      { name: 7 },
      { taskId: undefined },
      { startTime: '1700000000000' },
      { endTime: null },
      { messageVersion: undefined },
    ]) {
      const { err, incident } = await expectViolation(
        [await encryptRaw(keys.publicKey, message(bad))],
        'shape',
      );
      expect(err.message).toContain('is not of the right shape');
      expect(incident.detail).toMatch(/^missing or wrong type: /);
    }
  });

  it('version: messageVersion other than 1', async () => {
    const { err } = await expectViolation(
      [await encryptRaw(keys.publicKey, message({ messageVersion: 2 }))],
      'version',
    );
    expect(err.message).toContain('the version of the message is not supported');
  });

  it('task-id: a message made for another task', async () => {
    const { err, incident } = await expectViolation(
      [await encryptRaw(keys.publicKey, message({ taskId: 'anotherTaskId00000000w' }))],
      'task-id',
    );
    expect(err.message).toContain('the taskId of the env payload does not match the taskId of the task');
    expect(incident.detail).toContain(NAME); // the detail for the worker's debug log names the variable
  });

  it('start-time: startTime in the future', async () => {
    const { err } = await expectViolation(
      [await encryptRaw(keys.publicKey, message({ startTime: NOW + 1 }))],
      'start-time',
    );
    expect(err.message).toContain('the start time in the env payload is in the future');
  });

  it('end-time: endTime in the past', async () => {
    const { err } = await expectViolation(
      [await encryptRaw(keys.publicKey, message({ endTime: NOW - 1 }))],
      'end-time',
    );
    expect(err.message).toContain('the end time in the env payload is in the past');
  });

  it('reserved-name: TASK_ID, RUN_ID and every name the worker passes', async () => {
    await expectViolation([await encryptRaw(keys.publicKey, message({ name: 'TASK_ID' }))], 'reserved-name');
    await expectViolation([await encryptRaw(keys.publicKey, message({ name: 'RUN_ID' }))], 'reserved-name');
    const { err } = await expectViolation([await encryptRaw(keys.publicKey, message())], 'reserved-name', {
      reservedNames: ['TASK_ID', 'RUN_ID', NAME],
    });
    expect(err.message).toContain('an environment variable conflicts with an existing environment variable');
  });

  it('duplicate-name: already in payload.env, or given twice (the later message fails)', async () => {
    const m = await encryptRaw(keys.publicKey, message());
    const { err } = await expectViolation([m], 'duplicate-name', { env: { [NAME]: 'plain' } });
    expect(err.message).toContain('an environment variable has been duplicated in the task payload');
    const other = await encryptRaw(keys.publicKey, message({ name: 'OTHER' }));
    await expectViolation([m, other, m], 'duplicate-name', { index: 2 });
  });
});

describe('decryptEnvVars order', () => {
  it('checks the rules in the documented order: version before taskId before times before names', async () => {
    const all = { messageVersion: 3, taskId: 'x', startTime: NOW + 5, endTime: NOW - 5, name: 'TASK_ID' };
    await expectViolation([await encryptRaw(keys.publicKey, message(all))], 'version');
    await expectViolation(
      [await encryptRaw(keys.publicKey, message({ ...all, messageVersion: 1 }))],
      'task-id',
    );
    await expectViolation(
      [await encryptRaw(keys.publicKey, message({ ...all, messageVersion: 1, taskId: TASK }))],
      'start-time',
    );
    await expectViolation(
      [
        await encryptRaw(
          keys.publicKey,
          message({ ...all, messageVersion: 1, taskId: TASK, startTime: NOW }),
        ),
      ],
      'end-time',
    );
  });

  it('reports the first failing message, whatever fails later', async () => {
    const good = await encryptRaw(keys.publicKey, message({ name: 'GOOD' }));
    const expired = await encryptRaw(keys.publicKey, message({ endTime: NOW - 1 }));
    await expectViolation([good, expired, 'not base64 !'], 'end-time', { index: 1 });
    await expectViolation([good, 'not base64 !', expired], 'base64', { index: 1 });
  });
});
