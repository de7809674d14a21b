/**
 * @module commands/keygen
 * `encrypted-env keygen --out DIR`: a new worker key pair as worker-private.asc (0600) + worker-public.asc.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { generateWorkerKeys } from '../keys.js';
import type { KeyType } from '../keys.js';
import { CliError, UsageError } from '../cli-args.js';
import { readPassphraseOption } from '../cli-io.js';
import type { CliIo } from '../cli-io.js';
import { fsProblem, prepareOutputDir, writeKeyFile } from '../key-files.js';

interface KeygenOptions {
  out: string;
  type: string;
  userId: string;
  passphraseFile?: string;
  force?: boolean;
}

export function keygenCommand(program: Command, io: CliIo): void {
  program
    .command('keygen')
    .summary('make a new worker key pair')
    .description(
      'Make a new worker key pair: DIR/worker-private.asc (mode 0600, for the worker only) and DIR/worker-public.asc (publish it; task authors encrypt to it). Curve25519 by default (EdDSA/ECDH cv25519, readable by GnuPG 2.1+); --type rsa makes RSA 4096.',
    )
    .requiredOption('--out <dir>', 'directory to write the two files to (created if missing)')
    .option('--type <type>', 'curve25519 or rsa (RSA 4096)', 'curve25519')
    .option('--user-id <uid>', 'user id of the key', 'docker-worker encrypted env')
    .option('--passphrase-file <file>', 'protect the private key with the passphrase in this file')
    .option('--force', 'replace existing key files')
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  $ encrypted-env keygen --out ./keys\n' +
        '  $ encrypted-env keygen --out ./keys --type rsa --user-id "worker <ops@example.com>"\n' +
        '  $ docker run --rm -v "$PWD:/keys" docker-worker/encrypted-env keygen --out /keys',
    )
    .action(async (opts: KeygenOptions) => {
      if (opts.type !== 'curve25519' && opts.type !== 'rsa') {
        throw new UsageError(`--type ${JSON.stringify(opts.type)} is not a key type; use curve25519 or rsa`);
      }
      const privatePath = join(opts.out, 'worker-private.asc');
      const publicPath = join(opts.out, 'worker-public.asc');
      for (const path of [privatePath, publicPath]) {
        if (existsSync(path) && !opts.force)
          throw new CliError(`${path} exists; pass --force to replace it, or choose another --out`);
      }
      // An empty passphrase (refused there) would silently leave the private key unprotected.
      const passphrase =
        opts.passphraseFile === undefined ? undefined : await readPassphraseOption(opts.passphraseFile);
      await prepareOutputDir(opts.out); // before the key is made (RSA 4096 takes seconds)
      const keys = await generateWorkerKeys({
        type: opts.type as KeyType,
        userId: opts.userId,
        ...(passphrase === undefined ? {} : { passphrase }),
      });
      const replace = opts.force === true;
      for (const [path, text, mode] of [
        [privatePath, keys.privateKey, 0o600],
        [publicPath, keys.publicKey, 0o644],
      ] as const) {
        await writeKeyFile(path, text, mode, replace).catch((err: NodeJS.ErrnoException) => {
          if (err.code === 'EEXIST')
            throw new CliError(`${path} exists; pass --force to replace it, or choose another --out`);
          throw new CliError(`cannot write ${path}: ${fsProblem(err)}; choose a writable directory as --out`);
        });
      }
      io.stdout(`${privatePath}\n${publicPath}\n`);
    });
}
