/**
 * @module keys
 * Reading the armored keys people have (RSA, Curve25519/ECC; from gpg or openpgp.js) and making new
 * worker keys. Every failure is one plain `Error` line that says what is wrong and how to fix it.
 */
import * as openpgp from 'openpgp';
import type { Key, PrivateKey, PublicKey } from 'openpgp';

export type { PrivateKey, PublicKey } from 'openpgp';

async function readArmoredKey(armored: string, what: 'private' | 'public'): Promise<Key> {
  if (typeof armored !== 'string' || !armored.includes('-----BEGIN PGP')) {
    throw new Error(
      `the ${what} key is not an armored OpenPGP key (expected a "-----BEGIN PGP ${what.toUpperCase()} KEY BLOCK-----" text)`,
    );
  }
  try {
    return await openpgp.readKey({ armoredKey: armored });
  } catch (cause) {
    throw new Error(`the ${what} key could not be read as an armored OpenPGP key (${oneLine(cause)})`, {
      cause,
    });
  }
}

/**
 * Reads the worker's armored private key (the first key in the text) and returns it decrypted.
 * @example const key = await readPrivateKey(readFileSync('worker-private.asc', 'utf8'));
 */
export async function readPrivateKey(
  armored: string,
  opts: { passphrase?: string } = {},
): Promise<PrivateKey> {
  const key = await readArmoredKey(armored, 'private');
  if (!key.isPrivate()) {
    throw new Error(
      'this is a public key, but decrypting needs the private key (worker-private.asc, "-----BEGIN PGP PRIVATE KEY BLOCK-----")',
    );
  }
  return unlockPrivateKey(key, opts.passphrase);
}

/** Decrypts a passphrase-protected private key; an unprotected key is returned as is. */
export async function unlockPrivateKey(key: PrivateKey, passphrase: string | undefined): Promise<PrivateKey> {
  if (key.isDecrypted()) return key;
  if (passphrase === undefined) {
    throw new Error(
      'the private key is protected by a passphrase; give the passphrase (passphrase option, or --passphrase-file)',
    );
  }
  try {
    return await openpgp.decryptKey({ privateKey: key, passphrase });
  } catch (cause) {
    throw new Error(
      'the passphrase does not unlock the private key; check the passphrase (file) for this key',
      { cause },
    );
  }
}

/** Reads an armored public key to encrypt to; a private key is refused (publish only the public half). */
export async function readPublicKey(armored: string): Promise<PublicKey> {
  const key = await readArmoredKey(armored, 'public');
  if (key.isPrivate()) {
    throw new Error(
      'this is a private key; encrypt with the worker\'s public key (worker-public.asc, "-----BEGIN PGP PUBLIC KEY BLOCK-----")',
    );
  }
  return key as PublicKey;
}

export type KeyType = 'curve25519' | 'rsa';

export interface GenerateWorkerKeysOptions {
  /** `curve25519` (default: EdDSA + ECDH Curve25519, the format GnuPG 2.2 reads) or `rsa` (RSA 4096). */
  type?: KeyType;
  /** User id of the key, e.g. `docker-worker <worker@example.com>`. */
  userId?: string;
  passphrase?: string;
}

/**
 * Makes a new worker key pair, armored. Curve25519 keys are made in the v4 "legacy" encoding
 * (EdDSA/ECDH cv25519), which every GnuPG ≥ 2.1 reads; RFC 9580's new X25519 keys need GnuPG ≥ 2.5.
 */
export async function generateWorkerKeys(
  opts: GenerateWorkerKeysOptions = {},
): Promise<{ privateKey: string; publicKey: string }> {
  const userIDs = [parseUserId(opts.userId ?? 'docker-worker encrypted env')];
  const kind = opts.type ?? 'curve25519';
  const common = {
    userIDs,
    format: 'armored' as const,
    ...(opts.passphrase === undefined ? {} : { passphrase: opts.passphrase }),
  };
  const pair =
    kind === 'rsa'
      ? await openpgp.generateKey({ ...common, type: 'rsa', rsaBits: 4096 })
      : await openpgp.generateKey({ ...common, type: 'ecc', curve: 'curve25519Legacy' });
  return { privateKey: pair.privateKey, publicKey: pair.publicKey };
}

function parseUserId(userId: string): { name?: string; email?: string } {
  const m = /^\s*(.*?)\s*<([^>]+)>\s*$/.exec(userId);
  if (m) return { ...(m[1] ? { name: m[1] } : {}), email: m[2] };
  return { name: userId };
}

/** The first line of an error's message, without the stack. */
export function oneLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split('\n')[0] ?? '';
}
