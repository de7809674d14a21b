import { once } from 'node:events';
import { mkdtempSync, readFileSync } from 'node:fs';
import { get, type IncomingMessage } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LiveLog } from '../live-log-stream.js';
import { FakeClock } from '../testing/fake-clock.js';
import { startLiveLogServer, type LiveLogServer } from './live-log-server.js';

let server: LiveLogServer;
let dir: string;
const logs: LiveLog[] = [];

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'live-log-server-test-'));
  server = await startLiveLogServer({ port: 0, host: '127.0.0.1', log: pino({ level: 'silent' }) });
});
afterEach(async () => {
  await Promise.all(logs.splice(0).map((l) => l.close()));
  await server.close();
});

function newLog(): { log: LiveLog; path: string } {
  const log = new LiveLog(join(dir, `${logs.length}.log`), new FakeClock());
  logs.push(log);
  const { url } = server.publish(log);
  return { log, path: new URL(url).pathname };
}

/** Resolves once `n` bytes of the log are in its file (readers may read that far). */
function written(log: LiveLog, n: number): Promise<void> {
  return new Promise((resolve) => {
    const check = (): void => {
      if (log.bytesWritten < n) return;
      stop();
      resolve();
    };
    const stop = log.onChange(check);
    check();
  });
}

async function write(log: LiveLog, text: string): Promise<void> {
  const target = log.bytesWritten + Buffer.byteLength(text);
  await log.output(text);
  await written(log, target);
}

interface Reader {
  res: IncomingMessage;
  /** Everything received so far. */
  text(): string;
  /** Resolves once the body holds `part`. */
  until(part: string): Promise<void>;
  /** The whole body, once the answer ends. */
  done: Promise<string>;
}

async function read(path: string, headers: Record<string, string> = {}): Promise<Reader> {
  const req = get({ host: '127.0.0.1', port: server.port, path, headers });
  const [res] = (await once(req, 'response')) as [IncomingMessage];
  const chunks: Buffer[] = [];
  const text = (): string => Buffer.concat(chunks).toString();
  res.on('data', (c: Buffer) => chunks.push(c));
  const done = once(res, 'end').then(text);
  const until = (part: string): Promise<void> =>
    new Promise((resolve) => {
      const check = (): void => {
        if (!text().includes(part)) return;
        res.off('data', check);
        resolve();
      };
      res.on('data', check);
      check();
    });
  return { res, text, until, done };
}

describe('live log server', () => {
  it('sends what the log holds, follows new writes, and ends when the log closes', async () => {
    const { log, path } = newLog();
    await write(log, 'first line\n');
    const reader = await read(path);
    expect(reader.res.statusCode).toBe(200);
    expect(reader.res.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(reader.res.headers['content-length']).toBeUndefined(); // still growing
    await reader.until('first line\n');
    await write(log, 'second line\n');
    await reader.until('second line\n');
    expect(reader.res.complete).toBe(false);
    await log.output('last line\n');
    await log.close();
    expect(await reader.done).toBe('first line\nsecond line\nlast line\n');
  });

  it('gives many readers at once the same bytes', async () => {
    const { log, path } = newLog();
    await write(log, 'before the readers\n');
    const readers = await Promise.all(Array.from({ length: 8 }, () => read(path)));
    for (let i = 0; i < 200; i++) await log.output(`line ${i} ${'x'.repeat(i)}\n`);
    await log.close();
    const bodies = await Promise.all(readers.map((r) => r.done));
    const file = readFileSync(log.path, 'utf8');
    expect(file).toContain('line 199');
    for (const body of bodies) expect(body).toBe(file);
  });

  it('Range bytes=N- on a live log answers 206 from byte N and follows the log', async () => {
    const { log, path } = newLog();
    await write(log, '0123456789\n');
    const reader = await read(path, { range: 'bytes=4-' });
    expect(reader.res.statusCode).toBe(206);
    expect(reader.res.headers['content-range']).toBeUndefined(); // the end is not known yet
    await reader.until('456789\n');
    await write(log, 'more\n');
    await log.close();
    expect(await reader.done).toBe('456789\nmore\n');
  });

  it('Range on a complete log answers 206 with Content-Range and Content-Length', async () => {
    const { log, path } = newLog();
    await log.output('0123456789\n');
    await log.close();
    const middle = await read(path, { range: 'bytes=2-5' });
    expect(middle.res.statusCode).toBe(206);
    expect(middle.res.headers['content-range']).toBe('bytes 2-5/11');
    expect(middle.res.headers['content-length']).toBe('4');
    expect(await middle.done).toBe('2345');

    const rest = await read(path, { range: 'bytes=7-' });
    expect(rest.res.statusCode).toBe(206);
    expect(rest.res.headers['content-range']).toBe('bytes 7-10/11');
    expect(rest.res.headers['content-length']).toBe('4');
    expect(await rest.done).toBe('789\n');

    const whole = await read(path);
    expect(whole.res.statusCode).toBe(200);
    expect(whole.res.headers['content-length']).toBe('11');
    expect(await whole.done).toBe('0123456789\n');

    const beyond = await read(path, { range: 'bytes=11-' });
    expect(beyond.res.statusCode).toBe(416);
    expect(beyond.res.headers['content-range']).toBe('bytes */11');
  });

  it('answers an invalid Range with 416', async () => {
    const { log, path } = newLog();
    await write(log, 'text\n');
    for (const range of ['bytes=abc', 'items=0-', 'bytes=5-2', 'bytes=-3']) {
      const reader = await read(path, { range });
      expect(reader.res.statusCode, range).toBe(416);
      await reader.done;
    }
  });

  it('answers 404 for an unknown token and for a log that was unpublished', async () => {
    const unknown = await read('/log/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA');
    expect(unknown.res.statusCode).toBe(404);
    await unknown.done;

    const log = new LiveLog(join(dir, 'gone.log'), new FakeClock());
    logs.push(log);
    const published = server.publish(log);
    expect(published.url).toMatch(/\/log\/[A-Za-z0-9_-]{32}$/);
    await write(log, 'soon gone\n');
    const path = new URL(published.url).pathname;
    const before = await read(path);
    expect(before.res.statusCode).toBe(200);
    await before.until('soon gone\n');
    published.unpublish();
    const after = await read(path);
    expect(after.res.statusCode).toBe(404);
    expect(await after.done).toContain('read the task artifact');
    before.res.destroy();
  });

  it('gives each log its own unguessable URL', () => {
    const a = server.publish(new LiveLog(join(dir, 'a.log'), new FakeClock()));
    const b = server.publish(new LiveLog(join(dir, 'b.log'), new FakeClock()));
    expect(a.url).not.toBe(b.url);
    expect(a.url.startsWith(server.url)).toBe(true);
  });

  it('a long read leaves no listeners behind (no leak per back-pressure wait)', async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error): void => void warnings.push(w);
    process.on('warning', onWarning);
    try {
      const { log, path } = newLog();
      const line = `${'z'.repeat(1023)}\n`;
      for (let i = 0; i < 2048; i++) await log.output(line); // 2 MiB: ~32 waits for 'drain'
      await log.close();
      const reader = await read(path);
      expect((await reader.done).length).toBe(2 * 1024 * 1024);
      await new Promise((r) => setImmediate(r)); // warnings are emitted on the next tick
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
  });

  it('a reader that never reads does not hold up the task writing its log', async () => {
    const { log, path } = newLog();
    await write(log, 'start\n');
    const stalled = connect(server.port, '127.0.0.1');
    await once(stalled, 'connect');
    stalled.pause(); // never reads: the server's socket fills up
    stalled.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
    const line = `${'y'.repeat(1023)}\n`;
    for (let i = 0; i < 5 * 1024; i++) await log.output(line); // 5 MiB
    await log.close();
    expect(log.bytesWritten).toBe(6 + 5 * 1024 * 1024);
    // The server still answers others at once.
    const other = await read(path, { range: `bytes=${log.bytesWritten - 5}-` });
    expect(await other.done).toBe('yyyy\n');
    stalled.destroy();
  });
});
