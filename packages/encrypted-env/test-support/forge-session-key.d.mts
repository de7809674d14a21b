import type { KeyObject } from 'node:crypto';

export type ForgedKind = 'bad-padding' | 'bad-checksum' | 'wrong-session-key';
export interface RsaPublic {
  key: KeyObject;
  /** Modulus size in bytes. */
  k: number;
}
export const FORGED_KINDS: readonly ForgedKind[];
export function emePad(m: Uint8Array, k: number): Buffer;
export function sessionKeyBlock(algorithm: number, key: Uint8Array, checksumDelta?: number): Buffer;
export function forgedBlock(kind: ForgedKind, k: number): Buffer;
export function rsaPublicOf(armoredPublicKey: string): Promise<RsaPublic>;
export function withSessionBlock(
  base64Message: string,
  rsaPublic: RsaPublic,
  em: Uint8Array,
): Promise<string>;
export function forgeSessionKey(
  base64Message: string,
  rsaPublic: RsaPublic,
  kind: ForgedKind,
): Promise<string>;
