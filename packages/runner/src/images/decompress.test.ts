import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { formatOf, onPath } from './decompress.js';
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

describe('the zstd and lz4 commands through decompressor (when on PATH)', () => {
  const viaCommand = { commands: true };

  it('finds the commands on PATH, and nothing for a name that is not there', () => {
    expect(onPath('zstd')).toMatch(/\/zstd$/);
    expect(onPath('lz4')).toMatch(/\/lz4$/);
    expect(onPath('no-such-decompressor-here')).toBeUndefined();
  });

  it('zstd -dc decodes multi-block streams, concatenated frames and any chunking', async () => {
    const input = sample(3 * 2 ** 20);
    for (const level of ['-1', '-19'])
      expect(sha(await decode('zst', [cli('zstd', ['-q', level], input)], viaCommand))).toBe(sha(input));
    const a = sample(700, 2);
    const b = sample(900, 3);
    const z = Buffer.concat([cli('zstd', ['-q'], a), cli('zstd', ['-q'], b)]);
    const whole = Buffer.concat([a, b]);
    for (const cut of [0, 1, 7, z.length >> 1, z.length - 1, z.length])
      expect((await decode('zst', [z.subarray(0, cut), z.subarray(cut)], viaCommand)).equals(whole)).toBe(
        true,
      );
    const bytes = [...z].map((v) => Buffer.from([v]));
    expect((await decode('zst', bytes, viaCommand)).equals(whole)).toBe(true);
  });

  it('a corrupt or truncated zstd stream is an error naming it and quoting zstd', async () => {
    const z = cli('zstd', ['-q'], sample(100_000));
    const bad = Buffer.from(z);
    bad[0] = (bad[0] ?? 0) ^ 0xff;
    await expect(decode('zst', [bad], viaCommand)).rejects.toThrow(
      /^the zstd stream is corrupt or ends early \(\S*zstd: .+\)$/,
    );
    await expect(decode('zst', [z.subarray(0, z.length - 10)], viaCommand)).rejects.toThrow(
      /^the zstd stream is corrupt or ends early \(\S*zstd: .+\)$/,
    );
  });

  it('lz4 -dc decodes what lz4 wrote; a corrupt stream is an error', async () => {
    const input = sample(2 * 2 ** 20);
    const z = cli('lz4', ['-q'], input);
    expect(sha(await decode('lz4', [z.subarray(0, 100), z.subarray(100)], viaCommand))).toBe(sha(input));
    await expect(decode('lz4', [Buffer.from('PK\x03\x04 a zip file')], viaCommand)).rejects.toThrow(
      /^the lz4 stream is corrupt or ends early \(\S*lz4: .+\)$/,
    );
  });
});

describe('tar through decompressor', () => {
  it('passes the bytes as they are', async () => {
    const input = sample(10_000);
    expect((await decode('tar', [input.subarray(0, 10), input.subarray(10)])).equals(input)).toBe(true);
  });
});
