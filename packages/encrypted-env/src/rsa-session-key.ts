/**
 * @module rsa-session-key
 * A native RSA path for the session key. Node ≥ 20.11 refuses RSA PKCS#1 v1.5 decryption
 * (CVE-2023-46809), so openpgp.js falls back to BigInt arithmetic: ~50 ms per message for RSA 4096.
 * Here Node does the raw RSA operation (RSA_NO_PADDING, still allowed) and we check the EME-PKCS1-v1_5
 * padding and the OpenPGP session-key checksum (RFC 4880 §5.1, §13.1). Only v3 PKESK packets for our RSA
 * keys and AES session keys qualify; anything else returns undefined and openpgp.js decrypts as usual.
 */
import { constants, createPrivateKey, privateDecrypt } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import * as openpgp from 'openpgp';
import type { PrivateKey } from 'openpgp';

export interface SessionKey {
  data: Uint8Array;
  algorithm: 'aes128' | 'aes192' | 'aes256';
}

const AES: Record<number, SessionKey['algorithm']> = { 7: 'aes128', 8: 'aes192', 9: 'aes256' };
const KEY_SIZE: Record<SessionKey['algorithm'], number> = { aes128: 16, aes192: 24, aes256: 32 };
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

type RsaKeys = Map<string, { key: KeyObject; size: number }>;
const cache = new WeakMap<PrivateKey, Promise<RsaKeys>>();

/** Node KeyObjects for the RSA decryption (sub)keys of `key`, by key id; built once per key. */
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
    out.set(k.getKeyID().toHex(), { key: createPrivateKey({ key: jwk, format: 'jwk' }), size: n.length });
  }
  return out;
}

/** The session key of `message` through native RSA, or undefined when this path does not apply. */
export function rsaSessionKey(message: openpgp.Message<Uint8Array>, keys: RsaKeys): SessionKey | undefined {
  if (keys.size === 0) return undefined;
  for (const packet of message.packets.filterByTag(openpgp.enums.packet.publicKeyEncryptedSessionKey)) {
    const pkesk = packet as unknown as PkeskPacket;
    if (pkesk.version !== 3 || !RSA_ALGOS.has(pkesk.publicKeyAlgorithm) || !pkesk.encrypted.c) continue;
    const candidates = pkesk.publicKeyID.isWildcard()
      ? [...keys.values()]
      : [keys.get(pkesk.publicKeyID.toHex())].filter((k) => k !== undefined);
    for (const { key, size } of candidates) {
      const found = decode(rawDecrypt(key, pkesk.encrypted.c, size));
      if (found) return found;
    }
  }
  return undefined;
}

function rawDecrypt(key: KeyObject, c: Uint8Array, size: number): Uint8Array | undefined {
  if (c.length > size) return undefined;
  const padded = new Uint8Array(size);
  padded.set(c, size - c.length);
  try {
    return privateDecrypt({ key, padding: constants.RSA_NO_PADDING }, padded);
  } catch {
    return undefined;
  }
}

/** EME-PKCS1-v1_5: 00 02 PS(≥ 8 non-zero) 00 M, with M = algo ‖ session key ‖ 2-byte checksum. */
function decode(em: Uint8Array | undefined): SessionKey | undefined {
  if (!em || em[0] !== 0 || em[1] !== 2) return undefined;
  const sep = em.indexOf(0, 2);
  if (sep < 10) return undefined;
  const m = em.subarray(sep + 1);
  const algorithm = AES[m[0] ?? -1];
  if (!algorithm || m.length !== 1 + KEY_SIZE[algorithm] + 2) return undefined;
  const data = m.subarray(1, m.length - 2);
  const sum = data.reduce((s, b) => (s + b) & 0xffff, 0);
  if (sum !== (((m[m.length - 2] ?? 0) << 8) | (m[m.length - 1] ?? 0))) return undefined;
  return { data: Uint8Array.from(data), algorithm };
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
