import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { formatOf } from './decompress.js';
import { cli, decode, sample } from './decoder-testing.js';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

describe('formatOf', () => {
  it('names the format by the artifact name', () => {
    expect(formatOf('public/image.tar.zst')).toBe('zst');
    expect(formatOf('public/image.tar.lz4')).toBe('lz4');
    expect(formatOf('public/image.tar')).toBe('tar');
    expect(formatOf('public/image.tar.gz')).toBeUndefined();
    expect(formatOf('public/image.zst')).toBeUndefined();
  });
});

describe('zstd (fzstd) through decompressor', () => {
  it('decodes what the zstd CLI wrote, multi-block, at levels 1 and 19', async () => {
    const input = sample(3 * 2 ** 20);
    for (const level of ['-1', '-19']) {
      const z = cli('zstd', ['-q', level], input);
      expect(sha(await decode('zst', [z]))).toBe(sha(input));
    }
  });

  it('decodes concatenated frames and any chunking, down to one byte at a time', async () => {
    const a = sample(700, 2);
    const b = sample(900, 3);
    const z = Buffer.concat([cli('zstd', ['-q'], a), cli('zstd', ['-q'], b)]);
    const whole = Buffer.concat([a, b]);
    for (let cut = 0; cut <= z.length; cut++)
      expect((await decode('zst', [z.subarray(0, cut), z.subarray(cut)])).equals(whole)).toBe(true);
    const bytes = [...z].map((v) => Buffer.from([v]));
    expect((await decode('zst', bytes)).equals(whole)).toBe(true);
  });

  it('a corrupt or truncated stream is an error saying so', async () => {
    const z = cli('zstd', ['-q'], sample(100_000));
    const bad = Buffer.from(z);
    bad[0] = (bad[0] ?? 0) ^ 0xff;
    await expect(decode('zst', [bad])).rejects.toThrow(/zstd stream is corrupt/);
    await expect(decode('zst', [z.subarray(0, z.length - 10)])).rejects.toThrow(
      /zstd stream ends early or is corrupt/,
    );
  });
});

describe('tar through decompressor', () => {
  it('passes the bytes as they are', async () => {
    const input = sample(10_000);
    expect((await decode('tar', [input.subarray(0, 10), input.subarray(10)])).equals(input)).toBe(true);
  });
});
