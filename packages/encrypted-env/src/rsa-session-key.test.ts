import * as openpgp from 'openpgp';
import { beforeAll, describe, expect, it } from 'vitest';
import { decryptEnvVars, EncryptedEnvError, readPrivateKey } from './index.js';
import type { PrivateKey } from './index.js';
import { rsaKeysOf, rsaSessionKey } from './rsa-session-key.js';
import { eccKeys, encryptRaw, rsaKeys } from '../test-support/pgp.js';

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

async function readBase64(message: string): Promise<openpgp.Message<Uint8Array>> {
  return openpgp.readMessage({ binaryMessage: Buffer.from(message, 'base64') });
}

beforeAll(async () => {
  rsa = await rsaKeys(2048);
  key = await readPrivateKey(rsa.privateKey);
});

describe('native RSA session-key path', () => {
  it('recovers the same session key openpgp.js does', async () => {
    const message = await readBase64(await encryptRaw(rsa.publicKey, json));
    const fast = rsaSessionKey(message, await rsaKeysOf(key));
    expect(fast?.algorithm).toBe('aes256');
    const [reference] = await openpgp.decryptSessionKeys({ message, decryptionKeys: key });
    expect(Buffer.from(fast?.data ?? [])).toEqual(Buffer.from(reference?.data ?? []));
    const { data } = await openpgp.decrypt({ message, sessionKeys: fast!, format: 'utf8' });
    expect(data).toBe(json);
  });

  it('does not apply to ECC keys (openpgp.js decrypts those)', async () => {
    const ecc = await eccKeys();
    expect((await rsaKeysOf(await readPrivateKey(ecc.privateKey))).size).toBe(0);
  });

  it('does not apply to a message for another RSA key, which still fails as "decrypt"', async () => {
    const other = await rsaKeys(2048);
    const foreign = await encryptRaw(other.publicKey, json);
    expect(rsaSessionKey(await readBase64(foreign), await rsaKeysOf(key))).toBeUndefined();
    const err = await decryptEnvVars({
      privateKey: key,
      taskId: 'T',
      env: {},
      encryptedEnv: [foreign],
      now: NOW,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EncryptedEnvError);
    expect((err as EncryptedEnvError).rule).toBe('decrypt');
  });

  it('rejects a tampered session key (bad padding or checksum) and decryptEnvVars reports "decrypt"', async () => {
    const bytes = Buffer.from(await encryptRaw(rsa.publicKey, json), 'base64');
    bytes[40] = (bytes[40] ?? 0) ^ 0xff; // inside the PKESK's encrypted MPI
    const tampered = bytes.toString('base64');
    expect(rsaSessionKey(await readBase64(tampered), await rsaKeysOf(key))).toBeUndefined();
    const err = await decryptEnvVars({
      privateKey: key,
      taskId: 'T',
      env: {},
      encryptedEnv: [tampered],
      now: NOW,
    }).catch((e: unknown) => e);
    expect((err as EncryptedEnvError).rule).toBe('decrypt');
  });
});
