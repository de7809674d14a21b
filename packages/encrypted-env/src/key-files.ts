/**
 * @module key-files
 * Where `keygen` writes: the output directory, created one level at a time (Node's recursive mkdir
 * spins forever under /proc, where mkdir answers ENOENT), and key files that are never readable by
 * others for a moment: each is written to a new temporary file opened with `wx` and mode 0600 (0644
 * for the public key), then moved into place. `--force` thereby replaces a file with wider
 * permissions by a new inode, and the old one never holds the new key.
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { access, link, mkdir, open, rename, stat, unlink } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { CliError } from './cli-args.js';

/** A file-system error code in words, for a one-line message. */
export function fsProblem(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'EEXIST' || code === 'ENOTDIR') return 'a file is in the way, not a directory';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EROFS') return 'read-only file system';
  if (code === 'ENOENT') return 'no such directory, and it cannot be created there';
  if (code === 'ENOSPC') return 'no space left on the device';
  return code ?? String(err);
}

async function kind(path: string): Promise<'directory' | 'other' | 'missing'> {
  try {
    return (await stat(path)).isDirectory() ? 'directory' : 'other';
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return 'missing'; // ENOTDIR: a file above it, found next
    throw err;
  }
}

/** Makes `dir` and its missing parents, one mkdir each, and checks it is a writable directory. */
export async function prepareOutputDir(dir: string): Promise<void> {
  const fail = (why: string) =>
    new CliError(`cannot write the keys to ${dir}: ${why}; choose a writable directory as --out`);
  const missing: string[] = [];
  try {
    let at = resolve(dir);
    for (let k = await kind(at); k !== 'directory'; k = await kind(at)) {
      if (k === 'other')
        throw fail(
          at === resolve(dir) ? 'a file is in the way, not a directory' : `${at} is a file, not a directory`,
        );
      missing.unshift(at);
      if (dirname(at) === at) break;
      at = dirname(at);
    }
    for (const path of missing) await mkdir(path);
    await access(resolve(dir), constants.W_OK);
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw fail(fsProblem(err));
  }
}

/**
 * Writes `text` to `path` through a temporary file created with `mode` (never wider: fchmod before
 * the first byte), then renames it over `path` (`replace`) or links it there (fails if it exists).
 */
export async function writeKeyFile(
  path: string,
  text: string,
  mode: number,
  replace: boolean,
): Promise<void> {
  const tmp = join(dirname(path), `.${randomBytes(6).toString('hex')}.tmp`);
  const file = await open(tmp, 'wx', mode);
  try {
    try {
      await file.chmod(mode); // the umask may only have narrowed it; this is its mode from the start
      await file.writeFile(text);
      await file.sync();
    } finally {
      await file.close();
    }
    if (replace) await rename(tmp, path);
    else await link(tmp, path);
  } finally {
    await unlink(tmp).catch(() => undefined); // after a rename there is nothing left to remove
  }
}
