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
    write: (s) => seen.push(s) > 0,
  });
  return { log, path, seen };
}

describe('LiveLog', () => {
  it('writes docker-worker style lines to the file and the sink', async () => {
    const { log, path, seen } = newLog();
    log.info('Task ID: abc');
    log.error('boom');
    await log.close();
    const text = '[taskcluster 2016-05-02 10:11:12.345Z] Task ID: abc\n\n[taskcluster:error] boom\n';
    expect(readFileSync(path, 'utf8')).toBe(text);
    expect(seen.join('')).toBe(text);
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
});
