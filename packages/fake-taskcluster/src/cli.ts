#!/usr/bin/env node
/**
 * @module cli
 * `fake-taskcluster --port N --host H --clients-file clients.json`: starts the stand-in and
 * prints its root URL on stdout. Stops on SIGINT/SIGTERM.
 */
import { createRequire } from 'node:module';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { ClientsFileError, readClientsFile } from './clients-file.js';
import { startFakeTaskcluster } from './server.js';

function seconds(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new InvalidArgumentError('must be a whole number of seconds, at least 1');
  return n;
}

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new InvalidArgumentError('must be a port number 0-65535');
  return n;
}

const { version } = createRequire(import.meta.url)('../package.json') as { version: string };

const program = new Command('fake-taskcluster')
  .version(version, '-V, --version', 'print the version')
  .description(
    'A faithful local Taskcluster stand-in: auth (Hawk, bewits, temporary credentials, authorizedScopes), queue, object, index.',
  )
  .option('--port <n>', 'port to listen on (0 = any free port)', port, 0)
  .option('--host <address>', 'address to listen on', '127.0.0.1')
  .option('--claim-timeout <seconds>', 'how long a claim lasts without reclaimTask', seconds, 1200)
  .option('--storage-dir <dir>', 'where uploaded artifact bytes go (default: a temp dir)')
  .requiredOption('--clients-file <file>', 'JSON: [{clientId, accessToken, scopes}] or {clients, roles}')
  .addHelpText(
    'after',
    '\nExample:\n' +
      '  $ echo \'[{"clientId": "worker", "accessToken": "worker-token-0123456789", "scopes": ["*"]}]\' > clients.json\n' +
      '  $ fake-taskcluster --clients-file clients.json --port 8090\n' +
      '  http://127.0.0.1:8090\n' +
      '\nA client may also have "expires" (ISO date) and "disabled": true; roles are {"roleId", "scopes"};\n' +
      'with {"clients", "roles", "tasks": {"<taskId>": {"scopes": [...], ...}}} queue.task serves those tasks.',
  )
  .exitOverride()
  .configureOutput({
    outputError: (text, write) =>
      write(`fake-taskcluster: ${text.trim().replace(/^error: /, '')} (see --help)\n`),
  })
  .action(
    async (opts: {
      port: number;
      host: string;
      clientsFile: string;
      claimTimeout: number;
      storageDir?: string;
    }) => {
      const { clients, roles, tasks } = readClientsFile(opts.clientsFile);
      const tc = await startFakeTaskcluster({
        clients,
        roles,
        tasks,
        host: opts.host,
        port: opts.port,
        claimTimeoutSeconds: opts.claimTimeout,
        ...(opts.storageDir ? { storageDir: opts.storageDir } : {}),
      }).catch((err: NodeJS.ErrnoException) => {
        const why =
          err.code === 'EADDRINUSE'
            ? 'the address is in use; choose another --port (0 = any free port)'
            : err.message;
        throw new Error(`cannot listen on ${opts.host}:${opts.port}: ${why}`);
      });
      process.stdout.write(`${tc.rootUrl}\n`);
      const stop = () => void tc.close().then(() => process.exit(0));
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    },
  );

program.parseAsync().catch((err: unknown) => {
  if (err instanceof CommanderError) {
    // commander has printed its one line (or the help, which is not an error).
    process.exit(err.code === 'commander.helpDisplayed' || err.code === 'commander.version' ? 0 : 64);
  }
  const message =
    err instanceof ClientsFileError || err instanceof Error
      ? (err.message.split('\n')[0] ?? '')
      : String(err);
  process.stderr.write(`fake-taskcluster: ${message}\n`);
  process.exit(1);
});
