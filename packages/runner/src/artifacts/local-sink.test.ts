import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createLocalSink } from './local-sink.js';

const meta = { contentType: 'text/plain', expires: new Date('2030-01-01T00:00:00Z') };
const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

describe('createLocalSink', () => {
  const dirs: string[] = [];
  const tmp = (): string => {
    const d = mkdtempSync(join(tmpdir(), 'local-sink-'));
    dirs.push(d);
    return d;
  };
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('writes a file under its name, with its digest', async () => {
    const dir = tmp();
    const sink = createLocalSink(dir);
    const r = await sink.putFile('public/a.txt', Readable.from(['hello ', 'world']), meta);
    expect(readFileSync(join(dir, 'public/a.txt'), 'utf8')).toBe('hello world');
    expect(r).toMatchObject({
      name: 'public/a.txt',
      path: join(dir, 'public/a.txt'),
      sha256: sha256('hello world'),
    });
    expect(sink.records).toEqual([r]);
  });

  it('moves a file the caller gives up: it is gone from where it was, the record has its digest', async () => {
    const dir = tmp();
    const work = tmp();
    const from = join(work, 'live.log');
    writeFileSync(from, 'line 1\nline 2\n');
    const sink = createLocalSink(dir);
    const r = await sink.moveFile!('public/logs/live_backing.log', from, meta);
    expect(existsSync(from)).toBe(false);
    expect(readFileSync(join(dir, 'public/logs/live_backing.log'), 'utf8')).toBe('line 1\nline 2\n');
    expect(r).toMatchObject({
      path: join(dir, 'public/logs/live_backing.log'),
      sha256: sha256('line 1\nline 2\n'),
      expires: '2030-01-01T00:00:00.000Z',
    });
    expect(sink.records).toEqual([r]);
  });

  it('refuses a name that leaves the directory, for a move as for a write, and moves nothing', async () => {
    const dir = tmp();
    const from = join(tmp(), 'x.log');
    writeFileSync(from, 'x');
    const sink = createLocalSink(dir);
    await expect(sink.moveFile!('../x.log', from, meta)).rejects.toThrow(/leaves the artifacts directory/);
    await expect(sink.putFile('../y', Readable.from(['y']), meta)).rejects.toThrow(
      /leaves the artifacts directory/,
    );
    expect(existsSync(from)).toBe(true);
    expect(sink.records).toEqual([]);
  });

  it("takes the caller's digest only when the size it knows is the file's", async () => {
    const dir = tmp();
    const work = tmp();
    const sink = createLocalSink(dir);
    writeFileSync(join(work, 'a.log'), 'abc');
    const trusted = await sink.moveFile!('a.log', join(work, 'a.log'), meta, {
      size: 3,
      sha256: 'f'.repeat(64),
    });
    expect(trusted.sha256).toBe('f'.repeat(64));
    writeFileSync(join(work, 'b.log'), 'abcd'); // more than the caller wrote: its digest is not the file's
    const read = await sink.moveFile!('b.log', join(work, 'b.log'), meta, {
      size: 3,
      sha256: 'f'.repeat(64),
    });
    expect(read.sha256).toBe(sha256('abcd'));
  });

  // /dev/shm is a tmpfs: a rename from it into the temporary directory's file system fails EXDEV.
  it.runIf(existsSync('/dev/shm') && statSync('/dev/shm').dev !== statSync(tmpdir()).dev)(
    'moves across file systems by a copy, and the original is gone',
    async () => {
      const dir = tmp();
      const work = mkdtempSync('/dev/shm/local-sink-');
      dirs.push(work);
      writeFileSync(join(work, 'live.log'), 'across\n');
      const r = await createLocalSink(dir).moveFile!(
        'public/logs/live_backing.log',
        join(work, 'live.log'),
        meta,
      );
      expect(readFileSync(join(dir, 'public/logs/live_backing.log'), 'utf8')).toBe('across\n');
      expect(existsSync(join(work, 'live.log'))).toBe(false);
      expect(r.sha256).toBe(sha256('across\n'));
    },
  );
});
