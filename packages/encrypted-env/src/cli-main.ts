/**
 * @module cli-main
 * The `encrypted-env` program as a function: `main(argv, io)` → exit code. 0 ok, 1 a failure with a
 * one-line message, 64 a usage error. Stack traces only with --debug.
 */
import { Command, CommanderError } from 'commander';
import { CliError, UsageError } from './cli-args.js';
import type { CliIo } from './cli-io.js';
import { decryptCommand } from './commands/decrypt.js';
import { encryptCommand } from './commands/encrypt.js';
import { keygenCommand } from './commands/keygen.js';
import { VERSION } from './version.js';

export const EXIT_USAGE = 64;

export function buildProgram(io: CliIo): Command {
  const program = new Command('encrypted-env')
    .description(
      "OpenPGP-encrypted environment variables for docker-worker tasks (payload.encryptedEnv). Task authors encrypt a variable for one task to the worker's public key; the worker decrypts it.",
    )
    .version(VERSION, '-V, --version', 'print the version and exit')
    .option('--debug', 'print stack traces of errors')
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  $ encrypted-env keygen --out ./keys\n' +
        '  $ encrypted-env encrypt --key keys/worker-public.asc --task-id "$TASK_ID" --name TOKEN --value-file token.txt\n' +
        '  $ encrypted-env decrypt --key keys/worker-private.asc --task-id "$TASK_ID" "$MESSAGE"\n' +
        '\nExit status: 0 ok, 1 failure (one line on stderr), 64 usage error.',
    );
  keygenCommand(program, io);
  encryptCommand(program, io);
  decryptCommand(program, io);
  for (const cmd of [program, ...program.commands]) {
    cmd.exitOverride().configureOutput({
      writeOut: (s) => io.stdout(s),
      writeErr: (s) => io.stderr(s),
      outputError: (s, write) =>
        write(
          `encrypted-env: ${s.trim().replace(/^error: /, '')} (see ${cmd === program ? '' : `${cmd.name()} `}--help)\n`,
        ),
    });
  }
  return program;
}

/** Runs the CLI with `argv` (without node and the script). */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (
        err.code === 'commander.helpDisplayed' ||
        err.code === 'commander.version' ||
        err.code === 'commander.help'
      )
        return 0;
      return EXIT_USAGE; // commander has already printed its one line
    }
    const debug = argv.includes('--debug');
    const message = err instanceof Error ? err.message.split('\n')[0] : String(err);
    io.stderr(`encrypted-env: ${message}\n`);
    if (debug && err instanceof Error && err.stack) io.stderr(`${err.stack}\n`);
    if (err instanceof UsageError) return EXIT_USAGE;
    if (!(err instanceof CliError) && !debug)
      io.stderr('encrypted-env: (unexpected error; run again with --debug for details)\n');
    return 1;
  }
}
