// keygen's files: the private key is never readable by others, not even for a moment (every file
// that exists is seen at its birth through a spy on fs/promises' open), --force replaces a wider
// file by a new inode, and an --out under /proc fails at once instead of spinning.
import {
  mkdtempSync,
  openSync,
  readFileSync,
  readSync,
  rmSync,
  statSync,
  writeFileSync,
  closeSync,
} from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { main } from './cli-main.js';
import { prepareOutputDir } from './key-files.js';
import { fakeIo } from '../test-support/io.js';

/** Every file opened through fs/promises, with its flags and its mode at birth. */
const opened: { path: string; flags: unknown; mode: number }[] = [];
const written: string[] = [];
vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  const spied = {
    ...real,
    open: async (path: string, flags?: string | number, mode?: number): Promise<FileHandle> => {
      const handle = await real.open(path, flags, mode);
      opened.push({ path: String(path), flags, mode: (await handle.stat()).mode & 0o777 });
      return handle;
    },
    writeFile: async (...args: Parameters<typeof real.writeFile>) => {
      written.push(String(args[0]));
      return real.writeFile(...args);
    },
  };
  return { ...spied, default: spied };
});

let dir: string;
let umask: number;
beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'encrypted-env-keyfiles-'))));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeEach(() => {
  opened.length = 0;
  written.length = 0;
  umask = process.umask(0); // the widest umask: whatever mode a file gets, it gets from us
});
afterEach(() => void process.umask(umask));

async function keygen(...args: string[]) {
  const f = fakeIo();
  const code = await main(['keygen', ...args], f.io);
  return { code, stdout: f.stdout(), stderr: f.stderr() };
}

describe('keygen key files', () => {
  it('creates the private key 0600 from birth (umask 0), the public key 0644, through wx temporaries', async () => {
    const out = join(dir, 'fresh');
    expect((await keygen('--out', out)).code).toBe(0);
    expect(statSync(join(out, 'worker-private.asc')).mode & 0o777).toBe(0o600);
    expect(statSync(join(out, 'worker-public.asc')).mode & 0o777).toBe(0o644);
    const mine = opened.filter((o) => o.path.startsWith(out));
    expect(mine.map(({ flags, mode }) => [flags, mode])).toEqual([
      ['wx', 0o600],
      ['wx', 0o644],
    ]);
    expect(written.filter((p) => p.startsWith(out))).toEqual([]); // nothing written by path
  });

  it('--force replaces a world-readable key with a new 0600 file; the old inode never sees the new key', async () => {
    const out = join(dir, 'forced');
    expect((await keygen('--out', out)).code).toBe(0);
    const privatePath = join(out, 'worker-private.asc');
    writeFileSync(privatePath, 'OLD KEY', { mode: 0o644 });
    const before = statSync(privatePath);
    const oldFd = openSync(privatePath, 'r'); // keeps the old inode readable
    try {
      expect((await keygen('--out', out, '--force')).code).toBe(0);
      const after = statSync(privatePath);
      expect(after.mode & 0o777).toBe(0o600);
      expect(after.ino).not.toBe(before.ino);
      const buf = Buffer.alloc(64);
      expect(buf.subarray(0, readSync(oldFd, buf, 0, 64, 0)).toString()).toBe('OLD KEY');
      expect(readFileSync(privatePath, 'utf8')).toMatch(/^-----BEGIN PGP PRIVATE KEY BLOCK-----/);
      expect(opened.filter((o) => o.path.startsWith(out)).every((o) => o.flags === 'wx')).toBe(true);
    } finally {
      closeSync(oldFd);
    }
  });

  it('without --force never replaces a file that appeared meanwhile (link, not rename), and leaves no temporary', async () => {
    const out = join(dir, 'kept');
    expect((await keygen('--out', out)).code).toBe(0);
    const again = await keygen('--out', out);
    expect(again.code).toBe(1);
    expect(readFileSync(join(out, 'worker-public.asc'), 'utf8')).toMatch(/PUBLIC KEY/);
    const { readdirSync } = await import('node:fs');
    expect(readdirSync(out).sort()).toEqual(['worker-private.asc', 'worker-public.asc']);
  });

  it(
    'an --out under /proc fails at once with one line (recursive mkdir spun there forever)',
    { timeout: 10_000 },
    async () => {
      const started = Date.now();
      const r = await keygen('--out', '/proc/encrypted-env-test/keys');
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(
        /^encrypted-env: cannot write the keys to \/proc\/encrypted-env-test\/keys: [^\n]+; choose a writable directory as --out\n$/,
      );
    },
  );

  it('prepareOutputDir makes missing levels one at a time and names a file in the way', async () => {
    await prepareOutputDir(join(dir, 'a/b/c'));
    expect(statSync(join(dir, 'a/b/c')).isDirectory()).toBe(true);
    writeFileSync(join(dir, 'plain'), '');
    await expect(prepareOutputDir(join(dir, 'plain/sub'))).rejects.toThrow(
      `cannot write the keys to ${join(dir, 'plain/sub')}: ${join(dir, 'plain')} is a file, not a directory; choose a writable directory as --out`,
    );
  });
});
