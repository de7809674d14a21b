/**
 * @module rsa-session-key
 * The session key of a message for one of our RSA keys, natively and without a padding oracle.
 * Node ≥ 20.11 refuses RSA PKCS#1 v1.5 decryption (CVE-2023-46809), and openpgp.js's BigInt
 * fallback takes ~50 ms per RSA 4096 message. Here Node does the raw RSA operation and
 * implicit-rejection.ts the EME-PKCS1-v1_5 decoding: a bad padding yields a synthetic message, the
 * OpenPGP session-key block (algorithm ‖ key ‖ checksum, RFC 4880 §5.1) is read from fixed
 * positions without branching on it, and a block that is not a valid session key yields a key
 * derived from the ciphertext. So every ciphertext gives a session key, and a wrong one fails
 * later, in the integrity check of the encrypted data, the same way whatever was wrong with it.
 *
 * Only v3 PKESK packets for our RSA keys qualify (decided on public fields: version, algorithm, key
 * id); for anything else `rsaSessionKeys` returns nothing and openpgp.js decrypts as usual.
 */
import { createPrivateKey } from 'node:crypto';
import * as openpgp from 'openpgp';
import type { PrivateKey, SessionKey } from 'openpgp';
import { ct, decryptImplicit, implicitRejectionKey, prf, select } from './implicit-rejection.js';
import type { DecryptedBlock, ImplicitRejectionKey } from './implicit-rejection.js';

/** The symmetric algorithms openpgp.js decrypts, with their key sizes (RFC 4880 §9.2). */
const CIPHERS: readonly { id: number; name: SessionKey['algorithm']; size: number }[] = [
  { id: 2, name: 'tripledes', size: 24 },
  { id: 3, name: 'cast5', size: 16 },
  { id: 4, name: 'blowfish', size: 16 },
  { id: 7, name: 'aes128', size: 16 },
  { id: 8, name: 'aes192', size: 24 },
  { id: 9, name: 'aes256', size: 32 },
  { id: 10, name: 'twofish', size: 32 },
];
const FALLBACK = CIPHERS.find((c) => c.name === 'aes256')!;
const RSA_ALGOS = new Set<number>([
  openpgp.enums.publicKey.rsaEncrypt,
  openpgp.enums.publicKey.rsaEncryptSign,
]);

/** The openpgp.js packet fields used here (public properties of its packet classes, not in its .d.ts). */
interface RsaKeyPacket {
  algorithm: number;
  publicParams: { n: Uint8Array; e: Uint8Array };
  privateParams?: { d: Uint8Array; p: Uint8Array; q: Uint8Array; u: Uint8Array } | null;
}
interface PkeskPacket {
  version: number;
  publicKeyAlgorithm: number;
  publicKeyID: { toHex(): string; isWildcard(): boolean };
  encrypted: { c?: Uint8Array };
}

type RsaKeys = Map<string, ImplicitRejectionKey>;
const cache = new WeakMap<PrivateKey, Promise<RsaKeys>>();

/** The RSA decryption (sub)keys of `key` as implicit-rejection keys, by key id; built once per key. */
export function rsaKeysOf(key: PrivateKey): Promise<RsaKeys> {
  let keys = cache.get(key);
  if (!keys) {
    keys = collect(key).catch(() => new Map());
    cache.set(key, keys);
  }
  return keys;
}

async function collect(key: PrivateKey): Promise<RsaKeys> {
  const out: RsaKeys = new Map();
  for (const k of await key.getDecryptionKeys()) {
    const packet = k.keyPacket as unknown as RsaKeyPacket;
    const priv = packet.privateParams;
    if (!RSA_ALGOS.has(packet.algorithm) || !priv) continue;
    const { n, e } = packet.publicParams;
    // openpgp stores u = p⁻¹ mod q; JWK wants qi = q⁻¹ mod p, so JWK's p is openpgp's q.
    const [d, p, q] = [big(priv.d), big(priv.q), big(priv.p)];
    const jwk = {
      kty: 'RSA',
      n: b64u(n),
      e: b64u(e),
      d: b64u(priv.d),
      p: b64u(priv.q),
      q: b64u(priv.p),
      dp: b64u(bytes(d % (p - 1n))),
      dq: b64u(bytes(d % (q - 1n))),
      qi: b64u(priv.u),
    };
    const nodeKey = createPrivateKey({ key: jwk, format: 'jwk' });
    out.set(k.getKeyID().toHex(), implicitRejectionKey(nodeKey, n.length, priv.d));
  }
  return out;
}

/**
 * One session key per v3 RSA PKESK of `message` for one of `keys` (all of them for a wildcard key
 * id): the real one, or a derived one that fails decryption. Empty when this path does not apply.
 */
export function rsaSessionKeys(message: openpgp.Message<Uint8Array>, keys: RsaKeys): SessionKey[] {
  const found: SessionKey[] = [];
  if (keys.size === 0) return found;
  for (const packet of message.packets.filterByTag(openpgp.enums.packet.publicKeyEncryptedSessionKey)) {
    const pkesk = packet as unknown as PkeskPacket;
    if (pkesk.version !== 3 || !RSA_ALGOS.has(pkesk.publicKeyAlgorithm) || !pkesk.encrypted.c) continue;
    const candidates = pkesk.publicKeyID.isWildcard()
      ? [...keys.values()]
      : [keys.get(pkesk.publicKeyID.toHex())].filter((k) => k !== undefined);
    for (const key of candidates) found.push(sessionKeyOf(decryptImplicit(key, pkesk.encrypted.c)));
  }
  return found;
}

/**
 * The session key in a decrypted block. For each cipher, its block `algo ‖ key ‖ sum` would end
 * the k bytes, so every candidate sits at fixed offsets from the end: each is checked (message
 * start, algorithm byte, checksum) and selected without a branch; none valid ⇒ the fallback key,
 * derived from the ciphertext. Only then is the chosen algorithm looked up; after implicit
 * rejection it says nothing about the padding.
 */
export function sessionKeyOf({ block, index, kdk }: DecryptedBlock): SessionKey {
  const k = block.length;
  const at = (i: number): number => block[i] as number;
  const key = new Uint8Array(32);
  let chosen = 0;
  for (const { id, size } of CIPHERS) {
    const start = k - size - 3;
    let sum = 0;
    for (let i = 0; i < size; i++) sum = (sum + at(start + 1 + i)) & 0xffff;
    const valid =
      ct.eq(index, start) &
      ct.eq(at(start), id) &
      ct.eq(sum, (at(k - 2) << 8) | at(k - 1)) &
      ct.isZero(chosen);
    for (let i = 0; i < 32; i++) key[i] = select(valid, i < size ? at(start + 1 + i) : 0, key[i] as number);
    chosen = select(valid, id, chosen);
  }
  const fallback = prf(kdk, 'session key', 32);
  const none = ct.isZero(chosen);
  for (let i = 0; i < 32; i++) key[i] = select(none, fallback[i] as number, key[i] as number);
  chosen = select(none, FALLBACK.id, chosen);
  const cipher = CIPHERS.find((c) => c.id === chosen) ?? FALLBACK;
  return { algorithm: cipher.name, data: key.slice(0, cipher.size) };
}

function big(b: Uint8Array): bigint {
  return b.length === 0 ? 0n : BigInt(`0x${Buffer.from(b).toString('hex')}`);
}

function bytes(n: bigint): Uint8Array {
  const hex = n.toString(16);
  return Buffer.from(hex.length % 2 ? `0${hex}` : hex, 'hex');
}

function b64u(b: Uint8Array): string {
  return Buffer.from(b).toString('base64url');
}
