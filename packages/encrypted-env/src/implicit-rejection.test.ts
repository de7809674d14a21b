// Known answers from OpenSSL's own implicit rejection (test-support/implicit-rejection-vectors.json,
// made with pyca/cryptography on OpenSSL 4.0: its RSA PKCS#1 v1.5 decryption returns the synthetic
// message for a bad padding), and the branch-free helpers.
import { createHmac, createPrivateKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import vectors from '../test-support/implicit-rejection-vectors.json' with { type: 'json' };
import { ct, decryptImplicit, implicitRejectionKey, prf, select } from './implicit-rejection.js';

describe('decryptImplicit, against OpenSSL 3.2+ implicit rejection', () => {
  for (const { bits, jwk, cases } of vectors.keys) {
    const key = createPrivateKey({ key: jwk, format: 'jwk' });
    const k = Buffer.from(jwk.n, 'base64url').length;
    const ir = implicitRejectionKey(key, k, Buffer.from(jwk.d, 'base64url'));
    it.each(cases)(`RSA ${bits}: $name`, ({ c, m }) => {
      const full = Buffer.from(c, 'hex');
      const { block, index } = decryptImplicit(ir, full);
      expect(block).toHaveLength(k);
      expect(Buffer.from(block.subarray(index)).toString('hex')).toBe(m);
      // An OpenPGP MPI drops the leading zero bytes; the KDK pads them back.
      let start = 0;
      while (full[start] === 0) start++;
      const short = decryptImplicit(ir, full.subarray(start));
      expect(Buffer.from(short.block.subarray(short.index)).toString('hex')).toBe(m);
    });
  }

  it('gives a ciphertext longer than the modulus a synthetic message too (it does not throw)', () => {
    const { jwk } = vectors.keys[0]!;
    const k = Buffer.from(jwk.n, 'base64url').length;
    const ir = implicitRejectionKey(
      createPrivateKey({ key: jwk, format: 'jwk' }),
      k,
      Buffer.from(jwk.d, 'base64url'),
    );
    const a = decryptImplicit(ir, Buffer.alloc(k + 1, 0xff));
    const b = decryptImplicit(ir, Buffer.alloc(k, 0xff)); // c ≥ n: RSADP refuses it
    for (const r of [a, b]) expect(r.index).toBeGreaterThan(10);
    expect(Buffer.from(a.block)).not.toEqual(Buffer.from(b.block));
  });
});

describe('branch-free helpers', () => {
  it('select, isZero, eq and lt over the whole range they are used on', () => {
    for (const a of [0, 1, 2, 255, 256, 65535, 2 ** 30]) {
      expect(ct.isZero(a)).toBe(a === 0 ? 1 : 0);
      for (const b of [0, 1, 2, 255, 65535, 2 ** 30]) {
        expect(ct.eq(a, b)).toBe(a === b ? 1 : 0);
        expect(ct.lt(a, b)).toBe(a < b ? 1 : 0);
        expect(select(1, a, b)).toBe(a);
        expect(select(0, a, b)).toBe(b);
      }
    }
  });

  it('prf is HMAC-SHA256(kdk, counter ‖ label ‖ bit length), truncated', () => {
    const kdk = Buffer.alloc(32, 7);
    const block = (i: number, bits: number) =>
      createHmac('sha256', kdk)
        .update(Buffer.from([0, i, bits >> 8, bits & 0xff]).subarray(0, 2))
        .update('message')
        .update(Buffer.from([bits >> 8, bits & 0xff]))
        .digest();
    const out = prf(kdk, 'message', 40);
    expect(out).toEqual(Buffer.concat([block(0, 320), block(1, 320)]).subarray(0, 40));
    // The length is part of every block: a longer output is not an extension of a shorter one.
    expect(prf(kdk, 'message', 32)).not.toEqual(out.subarray(0, 32));
  });
});
