// Forged RSA session keys, as a Bleichenbacher/Marvin attacker would send them: the message keeps its
// encrypted data, and its PKESK gets a new ciphertext made with the public key and no padding
// (RSA_NO_PADDING), so any EME-PKCS1-v1_5 block can be chosen. Shared by the tests and the benchmark
// (plain JS so that bench/*.mjs can import it without a build).
import { constants, createPublicKey, publicEncrypt, randomBytes } from 'node:crypto';
import * as openpgp from 'openpgp';

/** The kinds of forged block; all of them must fail decryption with one and the same error. */
export const FORGED_KINDS = ['bad-padding', 'bad-checksum', 'wrong-session-key'];

/** `00 02 PS 00 m` in `k` bytes, PS non-zero random. */
export function emePad(m, k) {
  const ps = randomBytes(k - 3 - m.length).map((b) => (b === 0 ? 1 : b));
  return Buffer.concat([Buffer.from([0, 2]), ps, Buffer.from([0]), m]);
}

/** OpenPGP's session-key block M: algorithm ‖ key ‖ 2-byte sum of the key bytes. */
export function sessionKeyBlock(algorithm, key, checksumDelta = 0) {
  const sum = (key.reduce((s, b) => s + b, 0) + checksumDelta) & 0xffff;
  return Buffer.concat([Buffer.from([algorithm]), key, Buffer.from([sum >> 8, sum & 0xff])]);
}

/** The EME block of each kind for a modulus of `k` bytes (AES-256, as openpgp.js and gpg use). */
export function forgedBlock(kind, k) {
  const key = randomBytes(32);
  switch (kind) {
    case 'bad-padding': {
      const em = emePad(sessionKeyBlock(9, key), k);
      em[1] = 3; // block type 3: not EME-PKCS1-v1_5
      return em;
    }
    case 'bad-checksum':
      return emePad(sessionKeyBlock(9, key, 1), k);
    case 'wrong-session-key':
      return emePad(sessionKeyBlock(9, key), k);
    default:
      throw new Error(`unknown kind ${kind}`);
  }
}

/** The Node public KeyObject and modulus size of the encryption (sub)key of an armored RSA public key. */
export async function rsaPublicOf(armoredPublicKey) {
  const key = await openpgp.readKey({ armoredKey: armoredPublicKey });
  const { n, e } = (await key.getEncryptionKey()).keyPacket.publicParams;
  const b64u = (b) => Buffer.from(b).toString('base64url');
  return {
    key: createPublicKey({ key: { kty: 'RSA', n: b64u(n), e: b64u(e) }, format: 'jwk' }),
    k: n.length,
  };
}

/** `base64Message` (its first packet an RSA PKESK) with that packet's ciphertext = raw RSA of `em`. */
export async function withSessionBlock(base64Message, rsaPublic, em) {
  const bytes = Buffer.from(base64Message, 'base64');
  const message = await openpgp.readMessage({ binaryMessage: bytes });
  const pkesk = message.packets[0];
  if (pkesk?.constructor.tag !== openpgp.enums.packet.publicKeyEncryptedSessionKey)
    throw new Error('the message does not start with a public-key encrypted session key');
  const c = publicEncrypt({ key: rsaPublic.key, padding: constants.RSA_NO_PADDING }, em);
  pkesk.encrypted = { c: new Uint8Array(c) };
  // The rest of the message stays byte for byte (openpgp.js cannot re-write a read data packet).
  const body = Buffer.from(pkesk.write());
  const header = Buffer.from([
    0xc0 | openpgp.enums.packet.publicKeyEncryptedSessionKey,
    ...newLength(body.length),
  ]);
  return Buffer.concat([header, body, bytes.subarray(packetEnd(bytes))]).toString('base64');
}

/** A new-format packet length (RFC 4880 §4.2.2). */
function newLength(n) {
  if (n < 192) return [n];
  if (n < 8384) return [((n - 192) >> 8) + 192, (n - 192) & 0xff];
  return [255, n >>> 24, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];
}

/** Where the first packet of `b` ends (old or new format header, definite length). */
function packetEnd(b) {
  if (b[0] & 0x40) {
    const o = b[1];
    if (o < 192) return 2 + o;
    if (o < 224) return 3 + ((o - 192) << 8) + b[2] + 192;
    return 6 + b.readUInt32BE(2);
  }
  const lengthType = b[0] & 3;
  if (lengthType === 0) return 2 + b[1];
  if (lengthType === 1) return 3 + b.readUInt16BE(1);
  return 5 + b.readUInt32BE(1);
}

/** `base64Message` with a forged session key of `kind`. */
export async function forgeSessionKey(base64Message, rsaPublic, kind) {
  return withSessionBlock(base64Message, rsaPublic, forgedBlock(kind, rsaPublic.k));
}
