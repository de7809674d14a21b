import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { DemuxStream } from './demux.js';

function frame(type: 1 | 2, text: string): Buffer {
  const body = Buffer.from(text);
  const header = Buffer.alloc(8);
  header[0] = type;
  header.writeUInt32BE(body.length, 4);
  return Buffer.concat([header, body]);
}

async function demux(chunks: Buffer[]): Promise<string> {
  const out: Buffer[] = [];
  await pipeline(
    Readable.from(chunks),
    new DemuxStream(),
    new Writable({
      write(c: Buffer, _e, cb) {
        out.push(c);
        cb();
      },
    }),
  );
  return Buffer.concat(out).toString();
}

describe('DemuxStream', () => {
  const all = Buffer.concat([
    frame(1, 'out one\n'),
    frame(2, 'err ü\n'),
    frame(1, ''),
    frame(1, 'out two\n'),
  ]);

  it('joins stdout and stderr payloads in order', async () => {
    expect(await demux([all])).toBe('out one\nerr ü\nout two\n');
  });

  it('gives the same text however the stream is cut (every split point, and byte by byte)', async () => {
    for (let i = 0; i <= all.length; i++)
      expect(await demux([all.subarray(0, i), all.subarray(i)])).toBe('out one\nerr ü\nout two\n');
    expect(await demux([...all].map((b) => Buffer.from([b])))).toBe('out one\nerr ü\nout two\n');
  });

  it('gives the payloads of one chunk as one buffer', async () => {
    const out: Buffer[] = [];
    const demuxer = new DemuxStream();
    demuxer.on('data', (c: Buffer) => out.push(c));
    demuxer.end(all);
    await new Promise((r) => demuxer.on('end', r));
    expect(out.map(String)).toEqual(['out one\nerr ü\nout two\n']);
  });

  it('holds back when the reader is slow: the source is not drained faster than the reader takes', async () => {
    const big = frame(1, 'x'.repeat(1 << 20));
    let pulled = 0;
    const source = new Readable({
      read() {
        pulled++;
        this.push(pulled <= 64 ? big : null);
      },
    });
    const demuxer = new DemuxStream();
    source.pipe(demuxer);
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    // Nobody reads the demuxer: only its and the source's buffers fill, not all 64 MiB.
    expect(pulled).toBeLessThan(8);
    source.destroy();
    demuxer.destroy();
  });
});
