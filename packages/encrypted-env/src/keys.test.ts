import * as openpgp from 'openpgp';
import { describe, expect, it } from 'vitest';
import { decryptEnvVars, encryptEnvVar, generateWorkerKeys, readPrivateKey, readPublicKey } from './index.js';
import { eccKeys, rsaKeys } from '../test-support/pgp.js';
import { expectSecretAbsent } from '../test-support/secrets.js';

const NOW = 1_700_000_000_000;

async function roundTrip(
  keys: { privateKey: string; publicKey: string },
  passphrase?: string,
): Promise<Record<string, string>> {
  const m = await encryptEnvVar({
    publicKey: keys.publicKey,
    taskId: 'T',
    name: 'K',
    value: 'v',
    startTime: NOW,
    endTime: NOW,
  });
  return decryptEnvVars({
    privateKey: keys.privateKey,
    ...(passphrase ? { passphrase } : {}),
    taskId: 'T',
    env: {},
    encryptedEnv: [m],
    now: NOW,
  });
}

describe('key kinds', () => {
  it('RSA keys made by openpgp.js', async () => {
    expect(await roundTrip(await rsaKeys(2048))).toEqual({ K: 'v' });
  });

  it('Curve25519 (legacy EdDSA/ECDH) keys made by openpgp.js', async () => {
    expect(await roundTrip(await eccKeys())).toEqual({ K: 'v' });
  });

  it('RFC 9580 X25519 keys made by openpgp.js (type curve25519) also work between openpgp.js peers', async () => {
    const keys = await openpgp.generateKey({
      type: 'curve25519',
      userIDs: [{ name: 'x' }],
      format: 'armored',
    });
    expect(await roundTrip(keys)).toEqual({ K: 'v' });
  });

  it('generateWorkerKeys: Curve25519 by default in the GnuPG 2.2-readable encoding, RSA 4096 on request', async () => {
    const ecc = await generateWorkerKeys();
    const eccKey = await readPrivateKey(ecc.privateKey);
    expect(eccKey.getAlgorithmInfo()).toMatchObject({ algorithm: 'eddsaLegacy', curve: 'ed25519Legacy' });
    expect((await eccKey.getEncryptionKey()).getAlgorithmInfo()).toMatchObject({
      algorithm: 'ecdh',
      curve: 'curve25519Legacy',
    });
    expect(await roundTrip(ecc)).toEqual({ K: 'v' });

    const rsa = await generateWorkerKeys({ type: 'rsa', userId: 'worker <ops@example.com>' });
    const rsaKey = await readPublicKey(rsa.publicKey);
    expect(rsaKey.getAlgorithmInfo()).toMatchObject({ algorithm: 'rsaEncryptSign', bits: 4096 });
    expect(rsaKey.getUserIDs()).toEqual(['worker <ops@example.com>']);
    expect(await roundTrip(rsa)).toEqual({ K: 'v' });
  }, 60_000);
});

describe('passphrase-protected private keys', () => {
  it('decrypts with the passphrase (readPrivateKey or decryptEnvVars option)', async () => {
    const keys = await eccKeys('correct horse');
    expect((await readPrivateKey(keys.privateKey, { passphrase: 'correct horse' })).isDecrypted()).toBe(true);
    expect(await roundTrip(keys, 'correct horse')).toEqual({ K: 'v' });
    const locked = await openpgp.readPrivateKey({ armoredKey: keys.privateKey });
    const m = await encryptEnvVar({
      publicKey: keys.publicKey,
      taskId: 'T',
      name: 'K',
      value: 'v',
      startTime: NOW,
      endTime: NOW,
    });
    expect(
      await decryptEnvVars({
        privateKey: locked,
        passphrase: 'correct horse',
        taskId: 'T',
        env: {},
        encryptedEnv: [m],
        now: NOW,
      }),
    ).toEqual({ K: 'v' });
  });

  it('says so when the passphrase is missing or wrong, without echoing it', async () => {
    const keys = await eccKeys('correct horse');
    await expect(readPrivateKey(keys.privateKey)).rejects.toThrow(
      /^the private key is protected by a passphrase; give the passphrase/,
    );
    const err = await readPrivateKey(keys.privateKey, { passphrase: 'wrong battery' }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toBe(
      'the passphrase does not unlock the private key; check the passphrase (file) for this key',
    );
    expectSecretAbsent(err, 'wrong battery', 'correct horse');
  });
});

describe('wrong keys', () => {
  it('refuses a public key where the private key is needed, and the reverse', async () => {
    const keys = await eccKeys();
    await expect(readPrivateKey(keys.publicKey)).rejects.toThrow(
      /^this is a public key, but decrypting needs the private key/,
    );
    await expect(readPublicKey(keys.privateKey)).rejects.toThrow(
      /^this is a private key; encrypt with the worker's public key/,
    );
  });

  it('refuses text that is not an armored key, in one line', async () => {
    for (const text of [
      '',
      'hello',
      '-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nbroken\n-----END PGP PUBLIC KEY BLOCK-----\n',
    ]) {
      const err = (await readPrivateKey(text).catch((e: unknown) => e)) as Error;
      expect(err.message).toMatch(/^the private key (is not|could not be read as) an armored OpenPGP key/);
      expect(err.message).not.toContain('\n');
    }
  });
});

describe('encryptEnvVar input checks', () => {
  it('refuses bad names, values, times and task ids without echoing the value', async () => {
    const { publicKey } = await eccKeys();
    const base = {
      publicKey,
      taskId: 'T',
      name: 'N',
      value: 'SeCrEt-value',
      startTime: NOW,
      endTime: NOW + 1,
    };
    const cases: [Partial<typeof base> | Record<string, unknown>, RegExp][] = [
      [{ name: 'A=B' }, /^name must be/],
      [{ name: '' }, /^name must be/],
      [{ value: 5 }, /^value must be a string/],
      [{ taskId: '' }, /^taskId must be/],
      [{ startTime: Number.NaN }, /^startTime and endTime must be numbers/],
      [{ endTime: NOW - 1 }, /^endTime is before startTime/],
    ];
    for (const [override, pattern] of cases) {
      const err = await encryptEnvVar({ ...base, ...override } as typeof base).catch((e: unknown) => e);
      expect((err as Error).message).toMatch(pattern);
      expectSecretAbsent(err, 'SeCrEt-value');
    }
  });

  it('produces a binary OpenPGP message (new-format PKESK header), base64 on one line', async () => {
    const { publicKey } = await eccKeys();
    const m = await encryptEnvVar({
      publicKey,
      taskId: 'T',
      name: 'N',
      value: 'v',
      startTime: NOW,
      endTime: NOW,
    });
    expect(m).toMatch(/^wV4D[A-Za-z0-9+/]+=*$/);
  });
});
