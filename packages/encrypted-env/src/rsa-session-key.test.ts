// The native RSA session-key path: the same key openpgp.js finds, and no padding oracle — forged
// session keys (bad padding, bad checksum, a wrong key), a message for another key and damaged data
// all fail with one and the same error. Timing: bench/decrypt.bench.mjs (no timed assertion here).
import { randomBytes } from 'node:crypto';
import * as openpgp from 'openpgp';
import { beforeAll, describe, expect, it } from 'vitest';
import { decryptEnvVars, EncryptedEnvError, readPrivateKey } from './index.js';
import type { EncryptedEnvIncident, PrivateKey } from './index.js';
import { rsaKeysOf, rsaSessionKeys } from './rsa-session-key.js';
import { eccKeys, encryptRaw, rsaKeys } from '../test-support/pgp.js';
import {
  emePad,
  forgeSessionKey,
  rsaPublicOf,
  sessionKeyBlock,
  withSessionBlock,
} from '../test-support/forge-session-key.mjs';
import type { RsaPublic } from '../test-support/forge-session-key.mjs';

const NOW = 1_700_000_000_000;
const json = JSON.stringify({
  messageVersion: 1,
  taskId: 'T',
  startTime: NOW,
  endTime: NOW,
  name: 'N',
  value: 'v',
});
let rsa: { privateKey: string; publicKey: string };
let key: PrivateKey;
let rsaPublic: RsaPublic;

async function readBase64(message: string): Promise<openpgp.Message<Uint8Array>> {
  return openpgp.readMessage({ binaryMessage: Buffer.from(message, 'base64') });
}

/** The error of decrypting `message`, with its incident, in a form comparable byte for byte. */
async function failure(message: string) {
  let incident: EncryptedEnvIncident | undefined;
  const err = await decryptEnvVars({
    privateKey: key,
    taskId: 'T',
    env: {},
    encryptedEnv: [message],
    now: NOW,
    onIncident: (i) => (incident = i),
  }).then(
    () => new Error('decrypted'),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(EncryptedEnvError);
  const e = err as EncryptedEnvError;
  const id = (text: string) => text.replaceAll(e.incidentId, '<incident>');
  expect(incident?.incidentId).toBe(e.incidentId);
  return {
    message: id(e.message),
    json: id(JSON.stringify(e)),
    keys: Object.getOwnPropertyNames(e).sort(),
    cause: e.cause,
    incident: id(JSON.stringify(incident)),
  };
}

beforeAll(async () => {
  rsa = await rsaKeys(2048);
  key = await readPrivateKey(rsa.privateKey);
  rsaPublic = await rsaPublicOf(rsa.publicKey);
});

describe('native RSA session-key path', () => {
  it('recovers the same session key openpgp.js does', async () => {
    const message = await readBase64(await encryptRaw(rsa.publicKey, json));
    const [fast, ...more] = rsaSessionKeys(message, await rsaKeysOf(key));
    expect(more).toEqual([]);
    expect(fast?.algorithm).toBe('aes256');
    const [reference] = await openpgp.decryptSessionKeys({ message, decryptionKeys: key });
    expect(Buffer.from(fast?.data ?? [])).toEqual(Buffer.from(reference?.data ?? []));
    const { data } = await openpgp.decrypt({ message, sessionKeys: fast!, format: 'utf8' });
    expect(data).toBe(json);
  });

  it.each(['aes128', 'aes192', 'cast5'] as const)('reads a %s session key too', async (algorithm) => {
    const sessionKey = { algorithm, data: new Uint8Array(randomBytes(algorithm === 'aes192' ? 24 : 16)) };
    const encrypted = await openpgp.encrypt({
      message: await openpgp.createMessage({ text: json }),
      encryptionKeys: await openpgp.readKey({ armoredKey: rsa.publicKey }),
      sessionKey,
      format: 'binary',
    });
    const env = await decryptEnvVars({
      privateKey: key,
      taskId: 'T',
      env: {},
      encryptedEnv: [Buffer.from(encrypted).toString('base64')],
      now: NOW,
    });
    expect(env).toEqual({ N: 'v' });
    const [found] = rsaSessionKeys(
      await readBase64(Buffer.from(encrypted).toString('base64')),
      await rsaKeysOf(key),
    );
    expect(found).toEqual(sessionKey);
  });

  it('does not apply to ECC keys (openpgp.js decrypts those)', async () => {
    const ecc = await eccKeys();
    expect((await rsaKeysOf(await readPrivateKey(ecc.privateKey))).size).toBe(0);
  });

  it('does not apply to a message for another RSA key (public key id), which fails as "decrypt"', async () => {
    const other = await rsaKeys(2048);
    const foreign = await encryptRaw(other.publicKey, json);
    expect(rsaSessionKeys(await readBase64(foreign), await rsaKeysOf(key))).toEqual([]);
    expect((await failure(foreign)).message).toMatch(/could not be decrypted with the worker's private key/);
  });

  it('answers a forged session key with a key derived from the ciphertext, never an error or openpgp.js', async () => {
    const base = await encryptRaw(rsa.publicKey, json);
    const keys = await rsaKeysOf(key);
    for (const kind of ['bad-padding', 'bad-checksum', 'wrong-session-key'] as const) {
      const forged = await forgeSessionKey(base, rsaPublic, kind);
      const first = rsaSessionKeys(await readBase64(forged), keys);
      expect(first, kind).toHaveLength(1);
      expect(first[0]?.algorithm).toMatch(/^(aes|cast|blowfish|tripledes|twofish)/);
      // Implicit rejection is deterministic: the same ciphertext, the same (wrong) key.
      expect(rsaSessionKeys(await readBase64(forged), keys)).toEqual(first);
    }
  });
});

describe('one error for every decryption failure (no padding oracle)', () => {
  it('bad padding, bad checksum, a wrong session key, another key and damaged data: byte-identical errors', async () => {
    const base = await encryptRaw(rsa.publicKey, json);
    const damaged = Buffer.from(base, 'base64');
    damaged[damaged.length - 5] = (damaged[damaged.length - 5] ?? 0) ^ 0xff; // inside the encrypted data
    const other = await rsaKeys(2048);
    const messages = {
      'bad padding': await forgeSessionKey(base, rsaPublic, 'bad-padding'),
      'no zero separator': await withSessionBlock(
        base,
        rsaPublic,
        Buffer.concat([Buffer.from([0, 2]), Buffer.alloc(rsaPublic.k - 2, 7)]),
      ),
      'bad checksum': await forgeSessionKey(base, rsaPublic, 'bad-checksum'),
      'unknown cipher byte': await withSessionBlock(
        base,
        rsaPublic,
        emePad(sessionKeyBlock(99, Buffer.alloc(32, 1)), rsaPublic.k),
      ),
      'wrong session key': await forgeSessionKey(base, rsaPublic, 'wrong-session-key'),
      'another key': await encryptRaw(other.publicKey, json),
      'damaged data': damaged.toString('base64'),
    };
    const errors = await Promise.all(Object.values(messages).map(failure));
    const [first] = errors;
    expect(first?.message).toMatch(
      /^secret data violation -- encryptedEnv\[0\] could not be decrypted with the worker's private key; .*; incidentId: <incident>$/,
    );
    expect(first?.cause).toBeUndefined();
    for (const [i, name] of Object.keys(messages).entries()) expect(errors[i], name).toEqual(first);
  });
});
