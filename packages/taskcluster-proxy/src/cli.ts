#!/usr/bin/env node
/**
 * @module cli
 * `taskcluster-proxy [options] [scope...]`: signs requests to Taskcluster with the given
 * credentials, restricted to the given scopes (authorizedScopes). Logs pino JSON lines.
 * Exit status: 0 ok (and --help, --version, SIGTERM), 1 a runtime failure, 64 a usage error.
 */
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { pino } from 'pino';
import { DEFAULT_IDENTITY } from './app.js';
import { ConfigError, loadConfig } from './config.js';
import type { CliOptions } from './config.js';
import { CredentialStore } from './credentials.js';
import { startTaskclusterProxy } from './server.js';
import { fetchTaskScopes } from './task-scopes.js';
import { VERSION } from './version.js';

const EXIT = { ok: 0, failure: 1, usage: 64 } as const;

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new InvalidArgumentError('must be a port number 0-65535');
  return n;
}

function seconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0)
    throw new InvalidArgumentError('must be a number of seconds (0 = no timeout)');
  return n;
}

const HELP_AFTER = `
Environment:
  TASKCLUSTER_ROOT_URL, TASKCLUSTER_CLIENT_ID, TASKCLUSTER_ACCESS_TOKEN, TASKCLUSTER_CERTIFICATE
                              defaults of --root-url, --client-id, --access-token, --certificate
  TASKCLUSTER_PROXY_CREDENTIALS_SECRET (or _SECRET_FILE = a file holding it); TASKCLUSTER_ACCESS_TOKEN_FILE and
  TASKCLUSTER_CERTIFICATE_FILE likewise (files keep secrets out of docker inspect)
                              the Bearer secret PUT /credentials must present; unset = updates refused (403)
  TASKCLUSTER_PROXY_REVISION  value of the X-Taskcluster-Proxy-Revision header
  LOG_LEVEL                   trace, debug, info (default), warn, error, fatal or silent

Endpoints:
  GET /__health               200 once listening
  PUT /credentials            new {clientId, accessToken, certificate?}; needs Authorization: Bearer <secret>
  POST /bewit                 body = an absolute URL; 303 to it signed as a bewit valid for 1 h
  /<service>/<version>/<path>, /api/<service>/<version>/<path>, /<host.with.dots>/<path>
                              forwarded, signed with authorizedScopes = the task scopes; the host form
                              only to the root URL's host and <service>.taskcluster.net (else 400)

Exit status: 0 ok, 1 runtime failure (e.g. --task-id cannot be fetched), 64 usage error.

Example:
  $ TASKCLUSTER_ROOT_URL=https://tc.example.com TASKCLUSTER_CLIENT_ID=worker TASKCLUSTER_ACCESS_TOKEN=... \\
      taskcluster-proxy --port 8080 queue:get-artifact:private/* secrets:get:project/x
  $ curl http://localhost:8080/secrets/v1/secret/project/x
`;

/** One line for a listen failure the user can fix. */
function listenError(err: NodeJS.ErrnoException, host: string, port: number): string {
  if (err.code === 'EADDRINUSE')
    return `cannot listen on ${host}:${port}: the address is in use; choose another --port`;
  if (err.code === 'EACCES')
    return `cannot listen on ${host}:${port}: permission denied (ports below 1024 need root); choose a --port of 1024 or more`;
  if (err.code === 'EADDRNOTAVAIL')
    return `cannot listen on ${host}:${port}: no such local address; give an --ip-address of this host (0.0.0.0 = all)`;
  return `cannot listen on ${host}:${port}: ${err.message}`;
}

// One line per proxied request, written at once with write(2) (pino's default for stdout). Not
// sync: false: its fs.write per line goes through the libuv thread pool, and that hand-off was
// ~13 % of the proxy's CPU on small GETs (a plain write of one line, ~2 %).
const logDestination = pino.destination({ dest: 1, sync: true });

const createLogger = (level: string) =>
  pino(
    {
      level,
      base: { service: 'taskcluster-proxy' },
      redact: {
        paths: [
          'accessToken',
          '*.accessToken',
          'authorization',
          '*.authorization',
          'secret',
          '*.secret',
          'certificate',
          '*.certificate',
        ],
        censor: '[redacted]',
      },
    },
    logDestination,
  );

const program = new Command('taskcluster-proxy')
  .description(
    'Signs Taskcluster API requests with the given credentials, restricted to the task scopes given as arguments.',
  )
  .version(VERSION, '-V, --version', 'print the version and exit')
  .argument('[scope...]', 'the task scopes (authorizedScopes); none = only the anonymous role')
  .option('-p, --port <n>', 'port to listen on', port, 8080)
  .option('-i, --ip-address <address>', 'address to listen on', '0.0.0.0')
  .option('--root-url <url>', 'Taskcluster root URL (env TASKCLUSTER_ROOT_URL)')
  .option('--client-id <id>', 'client id (env TASKCLUSTER_CLIENT_ID)')
  .option(
    '--access-token <token>',
    'access token (env TASKCLUSTER_ACCESS_TOKEN; prefer the env, argv is visible)',
  )
  .option('--certificate <json>', 'certificate JSON of temporary credentials (env TASKCLUSTER_CERTIFICATE)')
  .option('--scopes-file <file>', 'JSON array of the task scopes, instead of arguments')
  .option(
    '-t, --task-id <taskId>',
    'also authorize the scopes of this task (queue.task, fetched at start with the credentials)',
  )
  .option('--all-scopes', "do not restrict: sign with all of the credentials' scopes")
  .option(
    '--upstream-timeout <seconds>',
    'give up on an upstream that sends nothing for this long: 504 (0 = never)',
    seconds,
    120,
  )
  .addHelpText('after', HELP_AFTER)
  .exitOverride()
  .configureOutput({
    outputError: (text, write) =>
      write(`taskcluster-proxy: ${text.trim().replace(/^error: /, '')} (see --help)\n`),
  })
  .action(async (scopes: string[], opts: CliOptions) => {
    const config = loadConfig(opts, scopes, process.env);
    const logger = createLogger(config.logLevel);
    if (config.taskId !== undefined) {
      const taskScopes = await fetchTaskScopes(config.rootUrl, config.credentials, config.taskId);
      config.authorizedScopes = [...new Set([...(config.authorizedScopes ?? []), ...taskScopes])];
    }
    const running = await startTaskclusterProxy(
      {
        rootUrl: config.rootUrl,
        credentials: new CredentialStore(config.credentials),
        authorizedScopes: config.authorizedScopes,
        credentialsSecret: config.credentialsSecret,
        logger,
        upstreamTimeoutMs: config.upstreamTimeoutMs,
        identity: {
          version: DEFAULT_IDENTITY.version,
          revision: process.env.TASKCLUSTER_PROXY_REVISION ?? DEFAULT_IDENTITY.revision,
        },
      },
      { port: config.port, host: config.host },
    ).catch((err: NodeJS.ErrnoException) => {
      throw new ConfigError(listenError(err, config.host, config.port));
    });
    logger.info(
      {
        port: running.port,
        rootUrl: config.rootUrl,
        clientId: config.credentials.clientId,
        authorizedScopes: config.authorizedScopes ?? null,
        credentialUpdates: config.credentialsSecret !== undefined,
      },
      'listening',
    );
    const stop = () =>
      void running.close().finally(() => {
        logDestination.flushSync();
        process.exit(EXIT.ok);
      });
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });

program.parseAsync().catch((err: unknown) => {
  if (err instanceof CommanderError) {
    // commander has printed its one line (or the help / version, which are not errors).
    process.exit(err.exitCode === 0 ? EXIT.ok : EXIT.usage);
  }
  const message = err instanceof Error ? (err.message.split('\n')[0] ?? '') : String(err);
  process.stderr.write(`taskcluster-proxy: ${message}\n`);
  process.exit(err instanceof ConfigError ? EXIT.usage : EXIT.failure);
});
