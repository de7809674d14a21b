#!/usr/bin/env node
/**
 * @module cli
 * `testdroid-proxy`: reads options and environment, builds the cloud client and the device
 * manager, and listens (port 80 by default). The task's scopes come as arguments after `--`:
 * build URLs are signed restricted to them (authorizedScopes), never with the worker's own scopes. Errors a user can cause print one line and exit 64.
 * Exit status: 0 stopped (SIGTERM/SIGINT), 1 runtime failure (cannot listen), 64 usage error.
 */
import { createServer } from 'node:http';
import { Command, CommanderError } from 'commander';
import pkg from '../package.json' with { type: 'json' };
import { createApp } from './app.js';
import { TestdroidClient } from './cloud/client.js';
import { ConfigError, resolveConfig, type RawOptions } from './config.js';
import { DeviceManager } from './device/device-manager.js';
import { createLogger } from './log.js';

const EXIT = { ok: 0, failure: 1, usage: 64 } as const;

const program = new Command('testdroid-proxy')
  .description('Requests and releases phones from the Testdroid device cloud for a task (http://testdroid)')
  .argument(
    '[scope...]',
    "the task's scopes, after --: every signed build URL is restricted to them (none = anonymous only)",
  )
  .option('--cloud-url <url>', 'Testdroid cloud base URL (env TESTDROID_CLOUD_URL)')
  .option('--username <name>', 'Testdroid user (env TESTDROID_USERNAME)')
  .option('--password <password>', 'Testdroid password; prefer env TESTDROID_PASSWORD')
  .option(
    '--taskcluster-client-id <id>',
    'worker clientId for signing build URLs (env TASKCLUSTER_CLIENT_ID)',
  )
  .option('--taskcluster-access-token <token>', 'prefer env TASKCLUSTER_ACCESS_TOKEN')
  .option('--taskcluster-certificate <json>', 'for temporary credentials (env TASKCLUSTER_CERTIFICATE)')
  .option('--device-timeout <seconds>', "device session timeout: the task's maxRunTime (env DEVICE_TIMEOUT)")
  .option('--port <port>', 'port to listen on (env PORT, default 80)')
  .option('--host <address>', 'address to listen on (env HOST, default 0.0.0.0)')
  .option(
    '--proxy-host <host>',
    'host of the adb/marionette proxies (env TESTDROID_PROXY_HOST, default 10.1.2.9)',
  )
  .option('--log-level <level>', 'pino level (env LOG_LEVEL, default info)')
  .option(
    '--flash-poll-ms <ms>',
    'how often the flash run and the flashed device are polled (env TESTDROID_FLASH_POLL_MS, default 10000)',
  )
  .option(
    '--proxy-poll-ms <ms>',
    "how often a session's adb/marionette proxies are polled (env TESTDROID_PROXY_POLL_MS, default 5000)",
  )
  .version(pkg.version, '-V, --version', 'print the version')
  .addHelpText(
    'after',
    `
Example (secrets from the environment, not flags, which show in ps):
  TESTDROID_PASSWORD=... TASKCLUSTER_ACCESS_TOKEN=... testdroid-proxy --cloud-url https://cloud.testdroid.com/ \\
    --username ci@example.com --taskcluster-client-id worker/ci --device-timeout 3600 \\
    -- queue:get-artifact:private/build/*
A bad or missing value prints one line and exits 64. API: see the testdroid-proxy README.
Exit status: 0 stopped (SIGTERM), 1 runtime failure (e.g. cannot listen), 64 usage error.`,
  )
  .exitOverride()
  .configureOutput({
    outputError: (text, write) =>
      write(`testdroid-proxy: ${text.trim().replace(/^error: /, '')} (see --help)\n`),
  });

try {
  program.parse();
} catch (err) {
  // commander has printed its one line (or the help or the version, which are not errors)
  const shown = ['commander.helpDisplayed', 'commander.help', 'commander.version'];
  process.exit(err instanceof CommanderError && shown.includes(err.code) ? EXIT.ok : EXIT.usage);
}

let config;
try {
  config = resolveConfig(
    program.opts<RawOptions>(),
    process.env,
    (program.processedArgs[0] ?? []) as string[],
  );
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  process.stderr.write(`testdroid-proxy: ${err.message}\n`);
  process.exit(EXIT.usage);
}

const log = createLogger({ level: config.logLevel });
const cloud = new TestdroidClient({
  cloudUrl: config.cloudUrl,
  username: config.username,
  password: config.password,
});
const devices = new DeviceManager({
  cloud,
  log,
  credentials: config.taskcluster,
  deviceTimeoutSec: config.deviceTimeoutSec,
  proxyHost: config.proxyHost,
  options: {
    flashPollMs: config.polls.flashPollMs,
    deviceOnlinePollMs: config.polls.flashPollMs,
    proxyPollMs: config.polls.proxyPollMs,
  },
});
const server = createServer(createApp({ cloud, devices, log }));
// Flashing a phone is slow: POST /device may take ~20 min (upstream: 22 min, socket 23 min).
server.requestTimeout = 23 * 60_000;
server.timeout = 23 * 60_000;
server.headersTimeout = 60_000;
server.keepAliveTimeout = 5_000;

server.on('error', (err) => {
  process.stderr.write(`testdroid-proxy: cannot listen on ${config.host}:${config.port}: ${err.message}\n`);
  process.exit(EXIT.failure);
});
server.listen(config.port, config.host, () => {
  log.info(
    {
      port: config.port,
      cloudUrl: new URL(config.cloudUrl).origin,
      deviceTimeoutSec: config.deviceTimeoutSec,
      authorizedScopes: config.taskcluster.authorizedScopes,
    },
    'listening',
  );
});

const shutdown = (): void => {
  // give a held device back before going away
  devices
    .release()
    .catch((err: unknown) => log.error({ err: String(err) }, 'release on shutdown failed'))
    .finally(() => server.close(() => process.exit(EXIT.ok)));
  setTimeout(() => process.exit(EXIT.ok), 10_000).unref();
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
