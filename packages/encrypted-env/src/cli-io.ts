/**
 * @module cli-io
 * What the CLI needs from the outside world, so that tests can run `main()` in-process.
 */
import { readFile } from 'node:fs/promises';
import { text } from 'node:stream/consumers';
import { CliError, UsageError } from './cli-args.js';
import { PassphraseFileError, readPassphraseFile } from './passphrase-file.js';

export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  /** All of standard input as UTF-8. */
  readStdin(): Promise<string>;
  /** True when standard input is a terminal (nothing piped in). */
  stdinIsTTY: boolean;
  /** Milliseconds since the epoch. */
  now(): number;
}

export function processIo(): CliIo {
  return {
    stdout: (text) => void process.stdout.write(text),
    stderr: (text) => void process.stderr.write(text),
    readStdin: () => text(process.stdin),
    stdinIsTTY: process.stdin.isTTY === true,
    now: () => Date.now(),
  };
}

/** Reads a file named by an option; a missing or unreadable file is a one-line CliError. */
export async function readOptionFile(path: string, option: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new CliError(
      `cannot read ${option} ${path}: ${readProblem((err as NodeJS.ErrnoException).code)}; give the path of ${what}`,
    );
  }
}

function readProblem(code: string | undefined): string {
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES') return 'permission denied';
  if (code === 'EISDIR') return 'it is a directory';
  return code ?? 'unreadable';
}

/**
 * `--passphrase-file`, read as the worker reads `keys.passphraseFile` ({@link readPassphraseFile}:
 * the first line without its line ending); an empty passphrase is a usage error.
 */
export async function readPassphraseOption(path: string): Promise<string> {
  try {
    return await readPassphraseFile(path);
  } catch (err) {
    if (!(err instanceof PassphraseFileError)) throw err;
    if (err.reason === 'empty') {
      throw new UsageError(
        `--passphrase-file ${path} has an empty first line; put the passphrase on it, or leave out --passphrase-file for an unprotected key`,
      );
    }
    throw new CliError(
      `cannot read --passphrase-file ${path}: ${readProblem(err.reason)}; give the path of a file holding the passphrase`,
    );
  }
}
