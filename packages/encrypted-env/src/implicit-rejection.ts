/**
 * @module implicit-rejection
 * RSA PKCS#1 v1.5 decryption with implicit rejection, as in the IETF draft "Implicit Rejection for
 * RSA PKCS#1 v1.5" and OpenSSL ≥ 3.2 (`ossl_rsa_padding_check_PKCS1_type_2`): a ciphertext whose
 * padding is bad decrypts to a synthetic message derived from the private exponent and the
 * ciphertext, so a caller (and its timing) cannot tell a bad padding from a good one. Node 20's
 * OpenSSL 3.0 lacks it, which is why Node refuses RSA_PKCS1_PADDING private decryption
 * (CVE-2023-46809); here Node does only the raw RSA operation (RSA_NO_PADDING).
 *
 * Everything after the RSA operation is branch-free and reads every byte of fixed-length buffers:
 * no branch, early return or index depends on the padding bytes. (JavaScript promises no constant
 * time; this keeps to integer operations on typed arrays, and bench/decrypt.bench.mjs measures it.)
 */
import { constants, createHash, createHmac, privateDecrypt } from 'node:crypto';
import type { KeyObject } from 'node:crypto';

export interface ImplicitRejectionKey {
  /** The RSA private key. */
  key: KeyObject;
  /** Modulus size in bytes. */
  k: number;
  /** SHA-256 of the private exponent d, big-endian in k bytes: the key of the KDK's HMAC. */
  dHash: Buffer;
}

export interface DecryptedBlock {
  /** k bytes: the decrypted EM when its padding is good, else the synthetic message block. */
  block: Uint8Array;
  /** Where the message starts in `block` (the message is `block.subarray(index)`). */
  index: number;
  /** The key-derivation key (32 bytes), for further values derived from this ciphertext. */
  kdk: Buffer;
}

/** The ImplicitRejectionKey of an RSA private key, given its private exponent (big-endian). */
export function implicitRejectionKey(key: KeyObject, k: number, d: Uint8Array): ImplicitRejectionKey {
  return { key, k, dHash: createHash('sha256').update(leftPad(d, k)).digest() };
}

/** 1 when a === 0, else 0 (a < 2^31). */
const isZero = (a: number): number => ((~a & (a - 1)) >>> 31) & 1;
const eq = (a: number, b: number): number => isZero(a ^ b);
/** 1 when a < b, else 0 (both < 2^31). */
const lt = (a: number, b: number): number => ((a - b) >>> 31) & 1;
/** bit ? a : b, without a branch (bit is 0 or 1). */
export const select = (bit: number, a: number, b: number): number => (a & -bit) | (b & (bit - 1));
export const ct = { isZero, eq, lt };

/** IRPRF(KDK, label, bits): HMAC-SHA256(KDK, I ‖ label ‖ bits) for I = 0, 1, … (2-byte big-endian). */
export function prf(kdk: Buffer, label: string, bytes: number): Buffer {
  const bits = Buffer.from([(bytes * 8) >> 8, (bytes * 8) & 0xff]);
  const out = Buffer.alloc(Math.ceil(bytes / 32) * 32);
  for (let i = 0; i * 32 < bytes; i++) {
    createHmac('sha256', kdk)
      .update(Buffer.from([i >> 8, i & 0xff]))
      .update(label)
      .update(bits)
      .digest()
      .copy(out, i * 32);
  }
  return out.subarray(0, bytes);
}

/**
 * RSADP of `c`, then EME-PKCS1-v1_5 decoding with implicit rejection. Never throws for a bad
 * padding; only an unusable key throws (that does not depend on the ciphertext).
 */
export function decryptImplicit(ir: ImplicitRejectionKey, c: Uint8Array): DecryptedBlock {
  const { k } = ir;
  const ciphertext = c.length < k ? leftPad(c, k) : c;
  const kdk = createHmac('sha256', ir.dHash).update(ciphertext).digest();
  let em: Uint8Array;
  try {
    // c ≥ n (or longer than k) is publicly invalid: no secret is involved, and it decodes as all zeros.
    em =
      c.length > k
        ? new Uint8Array(k)
        : privateDecrypt({ key: ir.key, padding: constants.RSA_NO_PADDING }, ciphertext);
  } catch {
    em = new Uint8Array(k);
  }
  if (em.length !== k) em = leftPad(em, k);

  const synthetic = prf(kdk, 'message', k);
  const candidates = prf(kdk, 'length', 256);
  // The synthetic length: the last of 128 candidates (masked to the next power of two) below the
  // largest possible message length, as OpenSSL and the draft do.
  const maxLength = k - 2 - 8;
  let mask = maxLength;
  mask |= mask >> 1;
  mask |= mask >> 2;
  mask |= mask >> 4;
  mask |= mask >> 8;
  let syntheticLength = 0;
  for (let i = 0; i < 256; i += 2) {
    const candidate = (((candidates[i] as number) << 8) | (candidates[i + 1] as number)) & mask;
    syntheticLength = select(lt(candidate, maxLength), candidate, syntheticLength);
  }

  // 00 02 PS(≥ 8 non-zero) 00 M, checked over every byte.
  let good = isZero(em[0] as number) & eq(em[1] as number, 2);
  let found = 0;
  let zeroIndex = 0;
  for (let i = 2; i < k; i++) {
    const zero = isZero(em[i] as number);
    zeroIndex = select(~found & zero & 1, i, zeroIndex);
    found |= zero;
  }
  good &= 1 ^ lt(zeroIndex, 2 + 8);
  const index = select(good, zeroIndex + 1, k - syntheticLength);
  const block = new Uint8Array(k);
  for (let i = 0; i < k; i++) block[i] = select(good, em[i] as number, synthetic[i] as number);
  return { block, index, kdk };
}

function leftPad(b: Uint8Array, k: number): Buffer {
  const out = Buffer.alloc(Math.max(k, b.length));
  out.set(b, out.length - b.length);
  return out;
}
