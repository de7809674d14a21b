import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { cli, decode, sample } from './decoder-testing.js';

const lz4 = (input: Buffer, ...args: string[]): Buffer => cli('lz4', ['-q', ...args], input);
const same = async (chunks: Buffer[], want: Buffer): Promise<boolean> =>
  (await decode('lz4', chunks)).equals(want);

describe('LZ4 frame decoder (what the lz4 CLI writes)', () => {
  const input = sample(600_000); // several 64 KiB blocks

  it.each([
    ['independent blocks (default)', ['-B4']],
    ['linked blocks', ['-B4', '-BD']],
    ['block checksums', ['-B4', '-BX']],
    ['linked blocks with block checksums', ['-B5', '-BD', '-BX']],
    ['content size in the header', ['-B4', '--content-size']],
    ['no content checksum', ['-B4', '--no-frame-crc']],
    ['4 MiB blocks, level 9', ['-B7', '-9']],
  ])('%s', async (_name, args) => {
    expect(await same([lz4(input, ...args)], input)).toBe(true);
  });

  it('stored (incompressible) blocks, and frames concatenated with a skippable frame between', async () => {
    const noise = randomBytes(200_000);
    const skippable = Buffer.alloc(8 + 5);
    skippable.writeUInt32LE(0x184d2a5a, 0);
    skippable.writeUInt32LE(5, 4);
    const frames = Buffer.concat([lz4(noise, '-B4'), skippable, lz4(input, '-B4', '-BD')]);
    expect(await same([frames], Buffer.concat([noise, input]))).toBe(true);
  });

  it('any chunking: split at every byte of a small stream, and one byte at a time', async () => {
    const small = sample(5000, 7);
    for (const args of [['-B4'], ['-B4', '-BD', '-BX', '--content-size']]) {
      const z = lz4(small, ...args);
      for (let cut = 0; cut <= z.length; cut++)
        expect(await same([z.subarray(0, cut), z.subarray(cut)], small)).toBe(true);
      expect(
        await same(
          [...z].map((v) => Buffer.from([v])),
          small,
        ),
      ).toBe(true);
    }
  });

  it('a linked frame split mid-block across chunks still resolves references into earlier blocks', async () => {
    const z = lz4(input, '-B4', '-BD');
    const chunks: Buffer[] = [];
    for (let at = 0; at < z.length; at += 10_007) chunks.push(z.subarray(at, at + 10_007));
    expect(await same(chunks, input)).toBe(true);
  });

  it('errors: not lz4, a truncated stream, a block longer than the frame allows', async () => {
    await expect(decode('lz4', [Buffer.from('PK\x03\x04 a zip file')])).rejects.toThrow(
      'not an lz4 frame (bad magic number)',
    );
    const z = lz4(input, '-B4');
    await expect(decode('lz4', [z.subarray(0, z.length - 100)])).rejects.toThrow(
      'the lz4 stream ends in the middle of a frame (truncated download?)',
    );
    const big = Buffer.from(z);
    big.writeUInt32LE(0x7fffffff, 7); // the first block's size word, after magic (4) and header (3)
    await expect(decode('lz4', [big])).rejects.toThrow('corrupt lz4 block (larger than the frame allows)');
  });
});
