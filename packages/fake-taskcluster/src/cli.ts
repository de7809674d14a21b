#!/usr/bin/env node
/**
 * @module cli
 * `fake-taskcluster --port N --host H --clients-file clients.json`: starts the stand-in and
 * prints its root URL on stdout. Stops on SIGINT/SIGTERM.
 */
import { Command, InvalidArgumentError } from 'commander';
import { ClientsFileError, readClientsFile } from './clients-file.js';
import { startFakeTaskcluster } from './server.js';

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('must be a port number 0-65535');
  return n;
}

const program = new Command('fake-taskcluster')
  .description('A faithful local Taskcluster stand-in (auth: Hawk, bewits, temporary credentials, authorizedScopes).')
  .option('--port <n>', 'port to listen on (0 = any free port)', port, 0)
  .option('--host <address>', 'address to listen on', '127.0.0.1')
  .requiredOption('--clients-file <file>', 'JSON: [{clientId, accessToken, scopes}] or {clients, roles}')
  .action(async (opts: { port: number; host: string; clientsFile: string }) => {
    const { clients, roles } = readClientsFile(opts.clientsFile);
    const tc = await startFakeTaskcluster({ clients, roles, host: opts.host, port: opts.port });
    process.stdout.write(`${tc.rootUrl}\n`);
    const stop = () => void tc.close().then(() => process.exit(0));
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });

program.parseAsync().catch((err: unknown) => {
  const message = err instanceof ClientsFileError ? err.message : `fake-taskcluster: ${(err as Error).message}`;
  process.stderr.write(`${message}\n`);
  process.exit(1);
});
