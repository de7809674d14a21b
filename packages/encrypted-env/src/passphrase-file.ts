/**
 * @module passphrase-file
 * How a passphrase file is read, the same way everywhere (the worker's `keys.passphraseFile`,
 * `encrypted-env keygen|decrypt --passphrase-file`) and as gpg's `--passphrase-file` reads it: the
 * passphrase is the first line of the file without its line ending (`\n` or `\r\n`); nothing else
 * is stripped, so leading or trailing spaces are part of it. An empty passphrase is refused: it
 * would leave a new key unprotected, or fail to unlock a protected one with a misleading message.
 *
 * @example
 * const passphrase = await readPassphraseFile('/etc/docker-worker/passphrase'); // "open sesame\n" → "open sesame"
 */
import { readFile } from 'node:fs/promises';

export class PassphraseFileError extends Error {
  override readonly name = 'PassphraseFileError';
  constructor(
    readonly path: string,
    /** `empty`, or the file-system error code (`ENOENT`, `EACCES`, …) when the file cannot be read. */
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

/** The passphrase in a passphrase file's text: its first line, without the line ending. */
export function passphraseOf(text: string): string {
  const end = text.indexOf('\n');
  if (end === -1) return text;
  return text.slice(0, end > 0 && text[end - 1] === '\r' ? end - 1 : end);
}

/** Reads the passphrase from a file (see the module); throws {@link PassphraseFileError}, never quoting the file. */
export async function readPassphraseFile(path: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new PassphraseFileError(path, code, `cannot read the passphrase file ${path}: ${code}`);
  }
  const passphrase = passphraseOf(text);
  if (passphrase === '') {
    throw new PassphraseFileError(
      path,
      'empty',
      `the passphrase file ${path} has an empty first line; put the passphrase on it`,
    );
  }
  return passphrase;
}
