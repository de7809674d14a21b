/** Test helpers around openpgp: keys, and messages with arbitrary plaintext (for the rule tests). */
import * as openpgp from 'openpgp';

export async function eccKeys(passphrase?: string): Promise<{ privateKey: string; publicKey: string }> {
  return openpgp.generateKey({
    type: 'ecc',
    curve: 'curve25519Legacy',
    userIDs: [{ name: 'test' }],
    format: 'armored',
    ...(passphrase ? { passphrase } : {}),
  });
}

export async function rsaKeys(bits = 2048): Promise<{ privateKey: string; publicKey: string }> {
  return openpgp.generateKey({ type: 'rsa', rsaBits: bits, userIDs: [{ name: 'test' }], format: 'armored' });
}

/**
 * base64 of a binary OpenPGP message holding exactly `plaintext` (any text, JSON or not);
 * `compressed`: in a zlib Compressed Data packet, as gpg makes them by default.
 */
export async function encryptRaw(
  publicKey: string,
  plaintext: string | Uint8Array,
  opts: { compressed?: boolean } = {},
): Promise<string> {
  const encryptionKeys = await openpgp.readKey({ armoredKey: publicKey });
  const message =
    typeof plaintext === 'string'
      ? await openpgp.createMessage({ text: plaintext })
      : await openpgp.createMessage({ binary: plaintext });
  const bytes = await openpgp.encrypt({
    message,
    encryptionKeys,
    format: 'binary',
    ...(opts.compressed ? { config: { preferredCompressionAlgorithm: openpgp.enums.compression.zlib } } : {}),
  });
  return Buffer.from(bytes).toString('base64');
}
