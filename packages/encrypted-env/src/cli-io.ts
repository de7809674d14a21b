/**
 * @module cli-io
 * What the CLI needs from the outside world, so that tests can run `main()` in-process.
 */
import { readFile } from 'node:fs/promises';
import { text } from 'node:stream/consumers';
import { CliError } from './cli-args.js';

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
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EACCES'
          ? 'permission denied'
          : code === 'EISDIR'
            ? 'it is a directory'
            : (code ?? 'unreadable');
    throw new CliError(`cannot read ${option} ${path}: ${why}; give the path of ${what}`);
  }
}
