/**
 * @module cot/ed25519
 * The chain of trust's ed25519 keys with node:crypto only. A signing key file is either PKCS#8 PEM
 * or the last docker-worker's format: base64 of the 64-byte NaCl secret key (32-byte seed, then
 * the 32-byte public key; a bare 32-byte seed is accepted too). A public key file is SPKI PEM or
 * base64 of the 32 raw bytes. Errors say what is wrong with the file, never its content.
 */
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign as cryptoSign,
  verify as cryptoVerify,
  type KeyObject,
} from 'node:crypto';
import { readFile } from 'node:fs/promises';

// DER prefixes of an ed25519 PKCS#8 private key (seed follows) and SPKI public key (key follows).
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

const FORMATS = 'expected PKCS#8 PEM or base64 of the 64-byte NaCl secret key';

function ed25519(key: KeyObject, file: string): KeyObject {
  if (key.asymmetricKeyType !== 'ed25519')
    throw new Error(`${file} holds a ${key.asymmetricKeyType ?? 'non-asymmetric'} key, not ed25519`);
  return key;
}

const rawPublic = (key: KeyObject): Buffer => key.export({ format: 'der', type: 'spki' }).subarray(12);

/** Parses a signing key (PEM or NaCl base64); `file` names it in errors. */
export function parseSigningKey(text: string, file: string): KeyObject {
  if (text.includes('-----BEGIN')) {
    try {
      return ed25519(createPrivateKey(text), file);
    } catch (err) {
      throw new Error(`${file} is not a valid ed25519 private key (${FORMATS}): ${(err as Error).message}`);
    }
  }
  const bytes = Buffer.from(text.trim(), 'base64');
  if (bytes.length !== 64 && bytes.length !== 32)
    throw new Error(`${file} is not a valid ed25519 private key: ${FORMATS}, found ${bytes.length} bytes`);
  const key = createPrivateKey({
    key: Buffer.concat([PKCS8_PREFIX, bytes.subarray(0, 32)]),
    format: 'der',
    type: 'pkcs8',
  });
  if (bytes.length === 64 && !rawPublic(createPublicKey(key)).equals(bytes.subarray(32)))
    throw new Error(`${file} is not a valid NaCl secret key: its public half does not match its seed`);
  return key;
}

/** Parses a public key (SPKI PEM, or base64 of the 32 raw bytes); a private key gives its public half. */
export function parsePublicKey(text: string, file: string): KeyObject {
  try {
    if (text.includes('PRIVATE KEY-----')) return ed25519(createPublicKey(createPrivateKey(text)), file);
    if (text.includes('-----BEGIN')) return ed25519(createPublicKey(text), file);
  } catch (err) {
    if ((err as Error).message.startsWith(file)) throw err;
    throw new Error(`${file} is not a valid ed25519 public key (SPKI PEM): ${(err as Error).message}`);
  }
  const bytes = Buffer.from(text.trim(), 'base64');
  if (bytes.length !== 32)
    throw new Error(
      `${file} is not a valid ed25519 public key: expected SPKI PEM or base64 of 32 bytes, found ${bytes.length} bytes`,
    );
  return createPublicKey({ key: Buffer.concat([SPKI_PREFIX, bytes]), format: 'der', type: 'spki' });
}

export const readSigningKey = async (file: string): Promise<KeyObject> =>
  parseSigningKey(await readFile(file, 'utf8'), file);

export const readPublicKey = async (file: string): Promise<KeyObject> =>
  parsePublicKey(await readFile(file, 'utf8'), file);

export const signBytes = (data: Buffer, key: KeyObject): Buffer => cryptoSign(null, data, key);

export const verifyBytes = (data: Buffer, signature: Buffer, key: KeyObject): boolean =>
  signature.length === 64 && cryptoVerify(null, data, key, signature);

/** A new pair as PEM: PKCS#8 private, SPKI public. */
export function generatePemPair(): { privatePem: string; publicPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    privatePem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    publicPem: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
  };
}

/** The last docker-worker's key file format (base64 of seed + public key), e.g. to test old key files. */
export function naclSecretKey(key: KeyObject): string {
  const seed = key.export({ format: 'der', type: 'pkcs8' }).subarray(16);
  return Buffer.concat([seed, rawPublic(createPublicKey(key))]).toString('base64');
}
