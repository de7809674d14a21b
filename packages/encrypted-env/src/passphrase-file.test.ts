import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from './cli-main.js';
import { PassphraseFileError, passphraseOf, readPassphraseFile } from './index.js';
import { fakeIo } from '../test-support/io.js';

const dir = mkdtempSync(join(tmpdir(), 'passphrase-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const file = (text: string): string => {
  const path = join(dir, `pass-${n++}.txt`);
  writeFileSync(path, text);
  return path;
};

describe('readPassphraseFile (the worker and the CLI read a passphrase file the same way)', () => {
  it.each([
    ['open sesame\n', 'open sesame'],
    ['open sesame\r\n', 'open sesame'],
    ['open sesame', 'open sesame'],
    ['  open sesame \t\n', '  open sesame \t'], // spaces are part of the passphrase (gpg keeps them)
    ['open sesame\n\n', 'open sesame'], // gpg reads the first line
    ['first\nsecond\n', 'first'],
    ['ends in cr\r', 'ends in cr\r'], // only \n or \r\n end the line
  ])('%j → %j', async (text, passphrase) => {
    expect(passphraseOf(text)).toBe(passphrase);
    expect(await readPassphraseFile(file(text))).toBe(passphrase);
  });

  it.each(['', '\n', '\r\n', '\nsecond line\n'])('refuses an empty passphrase (%j)', async (text) => {
    const path = file(text);
    const err = await readPassphraseFile(path).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PassphraseFileError);
    expect(err).toMatchObject({
      reason: 'empty',
      message: `the passphrase file ${path} has an empty first line; put the passphrase on it`,
    });
  });

  it('says a missing file cannot be read', async () => {
    const path = join(dir, 'missing.txt');
    await expect(readPassphraseFile(path)).rejects.toMatchObject({
      reason: 'ENOENT',
      message: `cannot read the passphrase file ${path}: ENOENT`,
    });
  });

  it('the CLI reads it that way: keygen and decrypt keep surrounding spaces, and decrypt refuses an empty one', async () => {
    const run = async (argv: string[]) => {
      const f = fakeIo({ now: Date.parse('2026-01-31T12:00:00Z') });
      return { code: await main(argv, f.io), stdout: f.stdout(), stderr: f.stderr() };
    };
    const task = 'fN1SbArXTPSVFNUvaOlinQ';
    const out = join(dir, 'keys');
    const spaced = file(' spaced phrase \r\n');
    expect((await run(['keygen', '--out', out, '--passphrase-file', spaced])).code).toBe(0);
    const key = join(out, 'worker-private.asc');
    const pub = join(out, 'worker-public.asc');
    const msg = (
      await run(['encrypt', '--key', pub, '--task-id', task, '--name', 'P', '--value', 'x'])
    ).stdout.trim();
    // the passphrase is " spaced phrase ": trimmed, it does not unlock the key
    const trimmed = await run([
      'decrypt',
      '--key',
      key,
      '--task-id',
      task,
      '--passphrase-file',
      file('spaced phrase\n'),
      msg,
    ]);
    expect(trimmed.code).toBe(1);
    expect(trimmed.stderr).toMatch(/the passphrase does not unlock the private key/);
    expect(
      await run([
        'decrypt',
        '--key',
        key,
        '--task-id',
        task,
        '--passphrase-file',
        file(' spaced phrase \n'),
        msg,
      ]),
    ).toEqual({
      code: 0,
      stdout: 'P\n',
      stderr: '',
    });
    const empty = file('\n');
    expect(await run(['decrypt', '--key', key, '--task-id', task, '--passphrase-file', empty, msg])).toEqual({
      code: 64,
      stdout: '',
      stderr: `encrypted-env: --passphrase-file ${empty} has an empty first line; put the passphrase on it, or leave out --passphrase-file for an unprotected key\n`,
    });
  });
});
