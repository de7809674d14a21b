import { once } from 'node:events';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { Coalesce } from './image-engine.js';

/** The chunks as pushed ('data' events: a read() would join what is buffered). */
async function through(chunks: Buffer[], bytes: number): Promise<Buffer[]> {
  const out: Buffer[] = [];
  const coalesce = Readable.from(chunks).pipe(new Coalesce(bytes));
  coalesce.on('data', (chunk: Buffer) => out.push(chunk));
  await once(coalesce, 'end');
  return out;
}

describe('Coalesce (the chunks a load sends the engine)', () => {
  it('joins small chunks into ones of at least the size, the rest last, every byte in order', async () => {
    const input = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 251));
    const chunks = Array.from({ length: 100 }, (_, i) => input.subarray(i * 10, i * 10 + 10));
    const out = await through(chunks, 64);
    expect(out.slice(0, -1).every((c) => c.length === 70)).toBe(true); // 7 chunks of 10 reach 64
    expect(out.at(-1)?.length).toBe(1000 % 70);
    expect(Buffer.concat(out).equals(input)).toBe(true);
  });

  it('passes a chunk already large enough as it is, and ends an empty stream with nothing', async () => {
    const big = Buffer.alloc(200, 1);
    const [only, ...rest] = await through([big], 64);
    expect(only).toBe(big);
    expect(rest).toEqual([]);
    expect(await through([], 64)).toEqual([]);
  });
});
