/**
 * @module commands/encrypt
 * `encrypted-env encrypt`: one variable for one task → one base64 line (or a JSON array with --json).
 */
import type { Command } from 'commander';
import { encryptEnvVar } from '../encrypt.js';
import { isValidEnvName } from '../env-name.js';
import { readPublicKey } from '../keys.js';
import { CliError, parseDuration, parseTime, UsageError } from '../cli-args.js';
import { readOptionFile } from '../cli-io.js';
import type { CliIo } from '../cli-io.js';

interface EncryptOptions {
  key: string;
  taskId: string;
  name: string;
  value?: string;
  valueFile?: string;
  start?: string;
  end?: string;
  ttl?: string;
  json?: boolean;
}

export function encryptCommand(program: Command, io: CliIo): void {
  program
    .command('encrypt')
    .summary('encrypt one variable for one task')
    .description(
      "Encrypt one environment variable for one task to the worker's public key. Prints one base64 line for payload.encryptedEnv (or, with --json, a JSON array holding it). The value comes from --value, --value-file (exact bytes) or standard input (one trailing newline removed). The worker accepts the message only for this task id and between --start and --end.",
    )
    .requiredOption('--key <file>', "the worker's armored public key (worker-public.asc)")
    .requiredOption('--task-id <id>', 'the taskId of the task that may use the variable')
    .requiredOption('--name <name>', 'environment variable name (no "=")')
    .option('--value <value>', 'the value (visible in `ps` and shell history: prefer --value-file or stdin)')
    .option('--value-file <file>', 'read the value from this file')
    .option('--start <time>', 'valid from (ISO date or ms since the epoch)', 'now')
    .option('--end <time>', 'valid until (ISO date or ms since the epoch)')
    .option('--ttl <duration>', 'valid for this long after --start (90s, 30m, 24h, 7d)', '24h')
    .option('--json', 'print a JSON array ready for payload.encryptedEnv')
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  $ encrypted-env encrypt --key worker-public.asc --task-id fN1SbArXTPSVFNUvaOlinQ \\\n' +
        '      --name GITHUB_TOKEN --value-file token.txt\n' +
        '  $ printf %s "$TOKEN" | encrypted-env encrypt --key worker-public.asc --task-id "$TASK_ID" \\\n' +
        '      --name TOKEN --ttl 2h --json\n' +
        '  $ docker run --rm -i -v "$PWD:/keys" docker-worker/encrypted-env encrypt --key /keys/pub.asc \\\n' +
        '      --task-id "$TASK_ID" --name TOKEN --value-file /keys/token.txt',
    )
    .action(async (opts: EncryptOptions, cmd: Command) => {
      if (opts.value !== undefined && opts.valueFile !== undefined)
        throw new UsageError('give the value once: --value or --value-file, not both');
      if (opts.end !== undefined && cmd.getOptionValueSource('ttl') === 'cli')
        throw new UsageError('give --end or --ttl, not both');
      if (!isValidEnvName(opts.name))
        throw new UsageError('--name must be an environment variable name: not empty, without "=" or NUL');
      const now = io.now();
      const startTime =
        opts.start === undefined || opts.start === 'now' ? now : parseTime(opts.start, '--start');
      const endTime =
        opts.end !== undefined
          ? parseTime(opts.end, '--end')
          : startTime + parseDuration(opts.ttl ?? '24h', '--ttl');
      if (endTime < startTime)
        throw new UsageError('--end is before --start; the message would never be valid');
      if (endTime < now)
        throw new CliError(
          '--end is in the past; the worker would reject the message as expired (choose a later --end or a --ttl)',
        );
      const value = await readValue(opts, io);
      const armored = await readOptionFile(opts.key, '--key', "the worker's public key (worker-public.asc)");
      const publicKey = await readPublicKey(armored).catch((err: Error) => {
        throw new CliError(`--key ${opts.key}: ${err.message}`);
      });
      const message = await encryptEnvVar({
        publicKey,
        taskId: opts.taskId,
        name: opts.name,
        value,
        startTime,
        endTime,
      }).catch((err: Error) => {
        throw new CliError(err.message);
      });
      io.stdout(opts.json ? `${JSON.stringify([message])}\n` : `${message}\n`);
    });
}

async function readValue(opts: EncryptOptions, io: CliIo): Promise<string> {
  if (opts.value !== undefined) return opts.value;
  if (opts.valueFile !== undefined)
    return readOptionFile(opts.valueFile, '--value-file', 'a file holding the value');
  if (io.stdinIsTTY)
    throw new UsageError('no value: give --value, --value-file, or pipe the value into standard input');
  const text = await io.readStdin();
  // `docker run` without -i, or `< /dev/null`: an empty stdin is a forgotten value, not an empty one.
  if (text === '')
    throw new UsageError(
      "no value: standard input is empty; give --value, --value-file or pipe the value in (docker run needs -i); for an empty value use --value ''",
    );
  return text.replace(/\r?\n$/, '');
}
