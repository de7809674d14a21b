import { encryptEnvVar, generateWorkerKeys } from '@docker-worker/encrypted-env';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { fakeRun, startFeature } from '../testing/fake-run.js';
import { encryptedEnv } from './encrypted-env.js';

let keys: { privateKey: string; publicKey: string };
beforeAll(async () => {
  keys = await generateWorkerKeys();
});

function setup(encrypted: string[], taskId = 'encTask000000000000000') {
  const { run, dir, clock } = fakeRun({ taskId, payload: { env: { PLAIN: 'p' }, encryptedEnv: encrypted } });
  const keyFile = join(dir, 'key.asc');
  writeFileSync(keyFile, keys.privateKey);
  run.config.keys.encryptedEnvPrivateKey = keyFile;
  return { run, clock };
}

describe('encryptedEnv', () => {
  it('merges decrypted variables into the task env and redacts their values', async () => {
    const now = Date.UTC(2026, 0, 1);
    const msg = await encryptEnvVar({
      publicKey: keys.publicKey,
      taskId: 'encTask000000000000000',
      name: 'TOKEN',
      value: 'tok-123',
      startTime: now - 1000,
      endTime: now + 60_000,
    });
    const { run } = setup([msg]);
    expect((await startFeature(encryptedEnv, run)).contribution).toEqual({
      taskEnv: { PLAIN: 'p', TOKEN: 'tok-123' },
    });
    await run.liveLog.output('token is tok-123, plain is p\n');
    await run.liveLog.close();
    expect(readFileSync(run.liveLog.path, 'utf8')).toBe('token is [secret], plain is p\n');
  });

  /** The error the feature's start throws for one message of `name` = `value`. */
  async function refusal(name: string, value: string) {
    const now = Date.UTC(2026, 0, 1);
    const msg = await encryptEnvVar({
      publicKey: keys.publicKey,
      taskId: 'encTask000000000000000',
      name,
      value,
      startTime: now - 1000,
      endTime: now + 60_000,
    });
    const { run } = setup([msg]);
    return encryptedEnv.start(run).then(
      () => undefined,
      (e: unknown) => e as Error & { resolution: string },
    );
  }

  it('turns a broken rule into malformed-payload with an incident id and no secret', async () => {
    const err = await refusal('TASK_ID', 'hidden-value');
    expect(err?.resolution).toBe('malformed-payload');
    expect(err?.message).toMatch(
      /conflicts with an existing environment variable; incidentId: [0-9a-f-]{36}$/,
    );
    expect(err?.message).not.toContain('hidden-value');
  });

  it('refuses a decrypted variable larger than Linux passes to a process, with an incident id', async () => {
    const err = await refusal('BIG', `big-marker-${'x'.repeat(200 * 1024)}`);
    expect(err?.resolution).toBe('malformed-payload');
    expect(err?.message).toMatch(/larger than 131072 bytes .*; incidentId: [0-9a-f-]{36}$/);
    expect(err?.message).not.toContain('big-marker');
  });

  it('says which config key is missing when the worker has no private key', async () => {
    const { run } = fakeRun({ payload: { encryptedEnv: ['x'] } });
    await expect(encryptedEnv.start(run)).rejects.toThrow(/keys\.encryptedEnvPrivateKey/);
  });
});

describe('encryptedEnv with a passphrase-protected key (keys.passphraseFile)', () => {
  let protectedKeys: { privateKey: string; publicKey: string };
  beforeAll(async () => {
    // surrounding spaces are part of a passphrase: the CLI and gpg keep them
    protectedKeys = await generateWorkerKeys({ passphrase: ' open sesame ' });
  });

  async function withPassphraseFile(text: string) {
    const now = Date.UTC(2026, 0, 1);
    const taskId = 'encTask000000000000000';
    const msg = await encryptEnvVar({
      publicKey: protectedKeys.publicKey,
      taskId,
      name: 'TOKEN',
      value: 'tok-123',
      startTime: now - 1000,
      endTime: now + 60_000,
    });
    const { run, dir } = fakeRun({ taskId, payload: { env: {}, encryptedEnv: [msg] } });
    run.config.keys.encryptedEnvPrivateKey = join(dir, 'key.asc');
    writeFileSync(run.config.keys.encryptedEnvPrivateKey, protectedKeys.privateKey);
    run.config.keys.passphraseFile = join(dir, 'passphrase');
    writeFileSync(run.config.keys.passphraseFile, text);
    return { run, passphraseFile: run.config.keys.passphraseFile };
  }

  it.each([' open sesame \n', ' open sesame \r\n', ' open sesame '])(
    'reads the passphrase as the CLI does: the first line without its line ending (%j)',
    async (text) => {
      const { run } = await withPassphraseFile(text);
      expect((await startFeature(encryptedEnv, run)).contribution).toEqual({ taskEnv: { TOKEN: 'tok-123' } });
    },
  );

  it('refuses an empty passphrase file as a worker problem (internal-error), naming the config key', async () => {
    const { run, passphraseFile } = await withPassphraseFile('\n');
    await expect(startFeature(encryptedEnv, run)).rejects.toMatchObject({
      resolution: 'internal-error',
      message: `the passphrase file ${passphraseFile} has an empty first line; put the passphrase on it (worker config keys.passphraseFile)`,
    });
  });
});
