#!/usr/bin/env node
/**
 * @module cli
 * `taskcluster-proxy [options] [scope...]`: signs requests to Taskcluster with the given
 * credentials, restricted to the given scopes (authorizedScopes). Logs pino JSON lines.
 */
import { Command, InvalidArgumentError } from 'commander';
import { pino } from 'pino';
import { DEFAULT_IDENTITY } from './app.js';
import { ConfigError, loadConfig } from './config.js';
import type { CliOptions } from './config.js';
import { CredentialStore } from './credentials.js';
import { startTaskclusterProxy } from './server.js';

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('must be a port number 0-65535');
  return n;
}

const logger = pino({
  base: { service: 'taskcluster-proxy' },
  redact: { paths: ['accessToken', '*.accessToken', 'authorization', '*.authorization', 'secret', '*.secret', 'certificate', '*.certificate'], censor: '[redacted]' },
});

const program = new Command('taskcluster-proxy')
  .description('Signs Taskcluster API requests with the given credentials, restricted to the task scopes given as arguments.')
  .argument('[scope...]', 'the task scopes (authorizedScopes); none = only the anonymous role')
  .option('-p, --port <n>', 'port to listen on', port, 8080)
  .option('-i, --ip-address <address>', 'address to listen on', '0.0.0.0')
  .option('--root-url <url>', 'Taskcluster root URL (env TASKCLUSTER_ROOT_URL)')
  .option('--client-id <id>', 'client id (env TASKCLUSTER_CLIENT_ID)')
  .option('--access-token <token>', 'access token (env TASKCLUSTER_ACCESS_TOKEN; prefer the env, argv is visible)')
  .option('--certificate <json>', 'certificate JSON of temporary credentials (env TASKCLUSTER_CERTIFICATE)')
  .option('--scopes-file <file>', 'JSON array of the task scopes, instead of arguments')
  .option('--all-scopes', 'do not restrict: sign with all of the credentials\' scopes')
  .showHelpAfterError()
  .action(async (scopes: string[], opts: CliOptions) => {
    const config = loadConfig(opts, scopes, process.env);
    const running = await startTaskclusterProxy(
      {
        rootUrl: config.rootUrl,
        credentials: new CredentialStore(config.credentials),
        authorizedScopes: config.authorizedScopes,
        credentialsSecret: config.credentialsSecret,
        logger,
        identity: { version: DEFAULT_IDENTITY.version, revision: process.env.TASKCLUSTER_PROXY_REVISION ?? DEFAULT_IDENTITY.revision },
      },
      { port: config.port, host: config.host },
    );
    logger.info(
      { port: running.port, rootUrl: config.rootUrl, clientId: config.credentials.clientId, authorizedScopes: config.authorizedScopes ?? null, credentialUpdates: config.credentialsSecret !== undefined },
      'listening',
    );
    const stop = () => void running.close().finally(() => process.exit(0));
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });

program.parseAsync().catch((err: unknown) => {
  const message = err instanceof ConfigError ? err.message : (err as Error).message;
  process.stderr.write(`taskcluster-proxy: ${message}\n`);
  process.exit(err instanceof ConfigError ? 64 : 1);
});
