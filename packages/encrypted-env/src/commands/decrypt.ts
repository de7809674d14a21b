/**
 * @module commands/decrypt
 * `encrypted-env decrypt`: check messages the way the worker will (for debugging). Prints names only
 * unless --show-values; a violation prints the rule's message plus the detail the worker logs.
 */
import type { Command } from 'commander';
import { decryptEnvVars } from '../decrypt.js';
import type { EncryptedEnvIncident } from '../decrypt.js';
import { EncryptedEnvError } from '../errors.js';
import { readPrivateKey } from '../keys.js';
import { CliError, parseTime, UsageError } from '../cli-args.js';
import { readOptionFile, readPassphraseOption } from '../cli-io.js';
import type { CliIo } from '../cli-io.js';

interface DecryptOptions {
  key: string;
  taskId: string;
  passphraseFile?: string;
  now?: string;
  showValues?: boolean;
}

export function decryptCommand(program: Command, io: CliIo): void {
  program
    .command('decrypt')
    .summary('check messages as the worker would (debugging)')
    .description(
      'Decrypt and validate messages as the worker does for a task with this id (every rule; reserved names TASK_ID and RUN_ID; no payload.env), and print the variable names (values only with --show-values). MESSAGE is a base64 message, a JSON array of them (as `encrypt --json` prints), or - to read them from standard input, one per line.',
    )
    .argument('<message...>', 'base64 message(s), a JSON array of them, or - for standard input')
    .requiredOption('--key <file>', "the worker's armored private key (worker-private.asc)")
    .requiredOption('--task-id <id>', 'the taskId of the task the messages are for')
    .option('--passphrase-file <file>', 'passphrase of a protected private key (first line of the file)')
    .option('--now <time>', 'check the times against this moment (ISO date or ms since the epoch)')
    .option('--show-values', 'print NAME=value instead of NAME (prints secrets to your terminal)')
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  $ encrypted-env decrypt --key worker-private.asc --task-id "$TASK_ID" hF4D...\n' +
        '  $ jq -c .payload.encryptedEnv task.json | encrypted-env decrypt --key worker-private.asc --task-id "$TASK_ID" -\n' +
        '  $ encrypted-env decrypt --key worker-private.asc --task-id "$TASK_ID" --now 2026-01-31T12:00:00Z --show-values "$MSG"',
    )
    .action(async (messages: string[], opts: DecryptOptions) => {
      const fixedNow = opts.now === undefined ? undefined : parseTime(opts.now, '--now');
      const encryptedEnv = await collectMessages(messages, io);
      const now = fixedNow ?? io.now(); // after reading stdin: `encrypt | decrypt -` runs both at once
      const armored = await readOptionFile(
        opts.key,
        '--key',
        "the worker's private key (worker-private.asc)",
      );
      const passphrase =
        opts.passphraseFile === undefined ? undefined : await readPassphraseOption(opts.passphraseFile);
      const privateKey = await readPrivateKey(armored, passphrase === undefined ? {} : { passphrase }).catch(
        (err: Error) => {
          throw new CliError(`--key ${opts.key}: ${err.message}`);
        },
      );
      let incident: EncryptedEnvIncident | undefined;
      const env = await decryptEnvVars({
        privateKey,
        taskId: opts.taskId,
        env: {},
        encryptedEnv,
        now,
        onIncident: (i) => (incident = i),
      }).catch((err: unknown) => {
        if (!(err instanceof EncryptedEnvError)) throw err;
        throw new CliError(
          `${err.message.replace(/^secret data violation -- /, '')} [${err.rule}: ${incident?.detail ?? ''}]`,
        );
      });
      for (const [name, value] of Object.entries(env))
        io.stdout(opts.showValues ? `${name}=${value}\n` : `${name}\n`);
    });
}

async function collectMessages(args: string[], io: CliIo): Promise<string[]> {
  const out: string[] = [];
  for (const arg of args) {
    if (arg !== '-') out.push(...expand(arg));
    else {
      if (io.stdinIsTTY) throw new UsageError('MESSAGE "-" reads standard input, but nothing is piped in');
      for (const line of (await io.readStdin()).split(/\r?\n/))
        if (line.trim() !== '') out.push(...expand(line.trim()));
    }
  }
  return out;
}

function expand(text: string): string[] {
  if (!text.startsWith('[')) return [text];
  let list: unknown;
  try {
    list = JSON.parse(text);
  } catch {
    throw new UsageError('a MESSAGE starting with "[" must be a JSON array of base64 strings');
  }
  if (!Array.isArray(list) || !list.every((x) => typeof x === 'string')) {
    throw new UsageError('a MESSAGE starting with "[" must be a JSON array of base64 strings');
  }
  return list as string[];
}
