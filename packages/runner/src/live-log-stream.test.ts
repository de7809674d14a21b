import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LiveLog } from './live-log-stream.js';
import { FakeClock } from './testing/fake-clock.js';

function newLog() {
  const path = join(mkdtempSync(join(tmpdir(), 'livelog-')), 'live.log');
  const seen: string[] = [];
  const log = new LiveLog(path, new FakeClock(Date.UTC(2016, 4, 2, 10, 11, 12, 345)), {
    write: (s) => seen.push(s.toString()) > 0,
  });
  return { log, path, seen };
}

describe('LiveLog', () => {
  it('settled(): every byte given so far is in the file and counted in bytesWritten', async () => {
    const { log, path } = newLog();
    const line = `${'y'.repeat(4095)}\n`;
    for (let i = 0; i < 1024; i++) void log.output(line); // 4 MiB without waiting for the file
    await log.flush();
    await log.settled();
    expect(log.bytesWritten).toBe(1024 * line.length);
    expect(readFileSync(path).length).toBe(1024 * line.length);
    await log.close();
  });

  it('writes docker-worker style lines to the file and the sink', async () => {
    const { log, path, seen } = newLog();
    log.info('Task ID: abc');
    log.error('boom');
    await log.close();
    const text = '[taskcluster 2016-05-02 10:11:12.345Z] Task ID: abc\n\n[taskcluster:error] boom\n';
    expect(readFileSync(path, 'utf8')).toBe(text);
    expect(seen.join('')).toBe(text);
  });

  it('knows the sha256 of what it wrote to its file once closed, redacted bytes and all', async () => {
    const { log, path } = newLog();
    log.addSecret('hunter2');
    log.info('start');
    await log.output(Buffer.from('raw bytes \xff\n', 'latin1'));
    await log.output('the password is hunter2\n');
    expect(log.sha256).toBeUndefined(); // not before it is complete
    await log.close();
    expect(log.sha256).toBe(createHash('sha256').update(readFileSync(path)).digest('hex'));
    expect(log.bytesWritten).toBe(readFileSync(path).length);
  });

  it('redacts secrets, also when split across chunks', async () => {
    const { log, path } = newLog();
    log.addSecret('hunter2');
    await log.output('the password is hun');
    await log.output('ter2 ok\nagain hunter2');
    log.info('worker says hunter2');
    await log.close();
    const text = readFileSync(path, 'utf8');
    expect(text).not.toContain('hunter2');
    expect(text).toContain('the password is [secret] ok\n');
    expect(text).toContain('again [secret]\n');
    expect(text).toContain('worker says [secret]');
  });

  it('prefixes sidecar lines with their alias', async () => {
    const { log, path } = newLog();
    await log.output('one\ntw', 'proxy', '[taskcluster] ');
    await log.output('o\n', 'proxy', '[taskcluster] ');
    await log.close();
    expect(readFileSync(path, 'utf8')).toBe('[taskcluster] one\n[taskcluster] two\n');
  });

  it('redacts a secret split at every byte offset between two chunks', async () => {
    const secret = 'pässwörd-€-🔑';
    const text = Buffer.from(`key ${secret} end\n`);
    for (let i = 0; i <= text.length; i++) {
      const { log, path } = newLog();
      log.addSecret(secret);
      await log.output(text.subarray(0, i));
      await log.output(text.subarray(i));
      await log.close();
      expect(readFileSync(path, 'utf8')).toBe('key [secret] end\n');
    }
  });

  it('redacts a multi-line PEM-like secret fed line by line', async () => {
    const pem =
      '-----BEGIN KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\nBKcwggSjAgEAAoIBAQC7\n-----END KEY-----';
    const { log, path, seen } = newLog();
    log.addSecret(pem);
    await log.output('before\n');
    expect(seen.join('')).toBe('before\n'); // a line no secret can span goes out at once
    for (const line of `${pem}\nafter\n`.split(/(?<=\n)/)) await log.output(line);
    await log.close();
    expect(readFileSync(path, 'utf8')).toBe('before\n[secret]\nafter\n');
  });

  it('keeps UTF-8 characters split across chunks around a secret intact', async () => {
    const { log, path } = newLog();
    log.addSecret('tök€n');
    const bytes = Buffer.from('ä€😀tök€n😀€ä\n');
    for (let i = 0; i < bytes.length; i++) await log.output(bytes.subarray(i, i + 1));
    await log.close();
    expect(readFileSync(path)).toEqual(Buffer.from('ä€😀[secret]😀€ä\n'));
  });

  it('redacts base64, base64url and URL-encoded forms', async () => {
    const secret = 'p@ss/w?rd>>~';
    const { log, path } = newLog();
    log.addSecret(secret);
    const b64 = Buffer.from(secret).toString('base64');
    const url = Buffer.from(secret).toString('base64url');
    await log.output(`auth ${b64.slice(0, 5)}`);
    await log.output(`${b64.slice(5)} ${url}\nq=${encodeURIComponent(secret)}&x\n`);
    await log.output(`bare ${b64.replace(/=+$/, '')}.\n`);
    await log.close();
    expect(readFileSync(path, 'utf8')).toBe('auth [secret] [secret]\nq=[secret]&x\nbare [secret].\n');
  });

  it('redacts two interleaved sources, each with its own prefix and pieces', async () => {
    const secret = 'multi\nline-secret';
    const { log, path } = newLog();
    log.addSecret(secret);
    const b64 = Buffer.from(secret).toString('base64');
    await log.output('task: multi\n');
    await log.output(`got ${b64.slice(0, 7)}`, 'proxy', '[proxy] ');
    await log.output('line-sec');
    await log.output(`${b64.slice(7)} ok\n`, 'proxy', '[proxy] ');
    await log.output('ret done\n');
    await log.flush();
    await log.flush('proxy', '[proxy] ');
    await log.close();
    expect(readFileSync(path, 'utf8')).toBe('[proxy] got [secret] ok\ntask: [secret] done\n');
  });

  it('redacts a secret that straddles the 64 KiB forced flush of an endless line', async () => {
    const { log, path } = newLog();
    log.addSecret('hunter2');
    await log.output('x'.repeat(64 * 1024 - 3));
    await log.output('hunt');
    await log.output('er2');
    await log.output('y'.repeat(64 * 1024));
    await log.output('hunter2\n');
    await log.close();
    const text = readFileSync(path, 'utf8');
    expect(text).not.toMatch(/hunt|er2/);
    expect(text.replaceAll('[secret]', 'S')).toBe(`${'x'.repeat(64 * 1024 - 3)}S${'y'.repeat(64 * 1024)}S\n`);
  });

  it('applies a secret added later to later output, also in base64', async () => {
    const { log, path } = newLog();
    await log.output('early tok-9876\n');
    await log.output('pending tok-');
    log.addSecret('tok-9876');
    await log.output('9876\n');
    const b64 = Buffer.from('tok-9876').toString('base64');
    await log.output(`b64 ${b64.slice(0, 3)}`);
    await log.output(`${b64.slice(3)}\n`);
    await log.close();
    expect(readFileSync(path, 'utf8')).toBe('early tok-9876\npending [secret]\nb64 [secret]\n');
  });

  it('ignores secrets shorter than 4 characters, which would destroy the log', async () => {
    const { log, path } = newLog();
    expect(log.addSecret('')).toBe(false);
    expect(log.addSecret('a')).toBe(false);
    expect(log.addSecret('abc')).toBe(false);
    await log.output('a cat abc\n');
    await log.close();
    expect(readFileSync(path, 'utf8')).toBe('a cat abc\n');
  });

  it('flushes what a sidecar held back, redacted and prefixed, on close', async () => {
    const { log, path } = newLog();
    log.addSecret('hunter2');
    await log.output('last words hunt', 'proxy', '[proxy] ');
    await log.output('er2', 'proxy', '[proxy] ');
    log.addSecret('the end\nof it');
    await log.output('at the end\n'); // held back: it could be the start of that secret
    await log.close();
    expect(readFileSync(path, 'utf8')).toBe('[proxy] last words [secret]\nat the end\n');
  });

  it('gives the whole-text redaction for UTF-8 text in random byte chunks', async () => {
    let seed = 7;
    const rand = (n: number): number => {
      seed = (seed * 48271) % 2147483647;
      return seed % n;
    };
    const secrets = ['ü€ü€', 'x\n€x', 'x€x€x'];
    const alphabet = ['x', 'ü', '€', '\n', '😀'];
    for (let round = 0; round < 50; round++) {
      const { log, path } = newLog();
      for (const secret of secrets) log.addSecret(secret);
      const text = Array.from({ length: 80 }, () => alphabet[rand(alphabet.length)]).join('');
      const bytes = Buffer.from(text);
      for (let i = 0; i < bytes.length;) {
        const n = 1 + rand(6);
        await log.output(bytes.subarray(i, i + n), 'side', '[side] ');
        i += n;
      }
      await log.close();
      const want = log.redact(text.endsWith('\n') ? text : `${text}\n`).replace(/^(?=.)/gm, '[side] ');
      expect(readFileSync(path)).toEqual(Buffer.from(want));
    }
  });

  it('passes the bytes of whole lines through unchanged while there is no secret', async () => {
    const { log, path, seen } = newLog();
    const text = 'ä€😀 one\ntwo 😀\nthree';
    const bytes = Buffer.from(text);
    for (let i = 0; i < bytes.length; i += 5) await log.output(bytes.subarray(i, i + 5));
    expect(seen.join('')).toBe('ä€😀 one\ntwo 😀\n'); // whole lines only, whole characters
    await log.close();
    expect(readFileSync(path, 'utf8')).toBe(`${text}\n`);
    expect(seen.join('')).toBe(`${text}\n`);
  });

  it('gives the decoded text for bytes that are not valid UTF-8, as before the first secret', async () => {
    const bytes = Buffer.from([0x61, 0xff, 0x0a, 0x62, 0xe2, 0x82, 0x0a, 0xc3, 0x0a, 0xa4, 0x63, 0x0a]);
    for (let i = 0; i <= bytes.length; i++) {
      const { log, path } = newLog();
      await log.output(bytes.subarray(0, i));
      await log.output(bytes.subarray(i));
      await log.close();
      expect(readFileSync(path, 'utf8')).toBe(bytes.toString());
    }
  });

  it('redacts a secret added while the start of a line is still held as bytes', async () => {
    const { log, path } = newLog();
    await log.output(Buffer.from('first line\nthe key is hun'));
    log.addSecret('hunter2');
    await log.output(Buffer.from('ter2\nhunter2 again\nand hunt'));
    await log.output(Buffer.from('er2'));
    await log.close();
    expect(readFileSync(path, 'utf8')).toBe(
      'first line\nthe key is [secret]\n[secret] again\nand [secret]\n',
    );
  });

  it('redacts bytes still held back when a secret comes just before the end', async () => {
    const { log, path } = newLog();
    await log.output(Buffer.from('ok\nno newline hunter2'));
    log.addSecret('hunter2');
    await log.flush();
    await log.close();
    expect(readFileSync(path, 'utf8')).toBe('ok\nno newline [secret]\n');
  });

  it('lets a line longer than 64 KiB out in pieces, also from bytes with no secret', async () => {
    const { log, seen } = newLog();
    await log.output(Buffer.from('start\n'));
    for (let i = 0; i < 20; i++) await log.output(Buffer.from('€'.repeat(4096))); // 240 KiB, one line
    expect(seen.join('').length).toBeGreaterThan(64 * 1024);
    expect(seen.join('').length).toBeLessThanOrEqual(20 * 4096 + 'start\n'.length);
    await log.output(Buffer.from('\nend\n'));
    await log.close();
    expect(seen.join('')).toBe(`start\n${'€'.repeat(20 * 4096)}\nend\n`);
  });

  it('gives the text as it came for byte chunks of any size with no secret', async () => {
    let seed = 11;
    const rand = (n: number): number => {
      seed = (seed * 48271) % 2147483647;
      return seed % n;
    };
    const alphabet = ['x', 'ü', '€', '\n', '😀'];
    for (let round = 0; round < 50; round++) {
      const { log, path, seen } = newLog();
      const text = Array.from({ length: 200 }, () => alphabet[rand(alphabet.length)]).join('');
      const bytes = Buffer.from(text);
      for (let i = 0; i < bytes.length;) {
        const n = 1 + rand(12);
        await log.output(bytes.subarray(i, i + n));
        i += n;
      }
      await log.close();
      const want = text.endsWith('\n') ? text : `${text}\n`;
      expect(readFileSync(path, 'utf8')).toBe(want);
      expect(seen.join('')).toBe(want);
    }
  });

  it.each([
    ['a full disk (/dev/full: every write is ENOSPC)', '/dev/full', 'ENOSPC'],
    ['a missing work directory', '/nonexistent-dir-of-this-test/live.log', 'ENOENT'],
  ])(
    'survives %s: keeps the error, the sink still gets every line, close resolves',
    async (_what, path, code) => {
      const seen: string[] = [];
      const log = new LiveLog(path, new FakeClock(0), { write: (s) => seen.push(s.toString()) > 0 });
      for (let i = 0; i < 200; i++) await log.output(`${'x'.repeat(1024)} line ${i}\n`);
      log.info('still here');
      await log.close();
      expect((log.writeError as NodeJS.ErrnoException | undefined)?.code).toBe(code);
      expect(log.complete).toBe(true);
      expect(log.bytesWritten).toBe(0);
      expect(seen.join('')).toContain('line 199\n');
      expect(seen.join('')).toContain('still here');
    },
  );
});
