#!/usr/bin/env node
/**
 * @module cli
 * `balrog-vpn-proxy`: the image's entrypoint. Checks its inputs (one clear line each), creates
 * /dev/net/tun when absent, starts openvpn, waits for the tunnel, then forwards port 80 to
 * PROXIED_SERVER. If openvpn exits, it stops serving and exits non-zero so the worker notices.
 * Exit status: 0 stopped by a signal, 1 runtime failure (tunnel never up, openvpn exited,
 * unexpected error), 64 usage error (a bad flag, env value or input; one line on stderr).
 */
import { createServer, type Server } from 'node:http';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { pino, type Logger } from 'pino';
import pkg from '../package.json' with { type: 'json' };
import { createApp } from './app.js';
import { checkNetAdmin, ensureTun, readProcStatus } from './host-checks.js';
import { InputError, parseProxiedServer } from './input-error.js';
import { openvpnArgs, startOpenvpn } from './openvpn.js';
import { createUpstreamProbe } from './upstream-probe.js';
import { findVpnConfig } from './vpn-config.js';

interface Options {
  configDir: string;
  config?: string;
  port: number;
  tunnelTimeout: number;
  timeout: number;
  exitGrace: number;
  tunDevice: string;
  openvpn: string;
  logLevel: string;
}

const EXIT = { ok: 0, failure: 1, usage: 64 } as const;
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

const seconds = (v: string): number => {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError('expected a number of seconds');
  return n;
};
const port = (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('expected a port number');
  return n;
};
const logLevel = (v: string): string => {
  if (!LOG_LEVELS.includes(v)) throw new InvalidArgumentError(`expected one of ${LOG_LEVELS.join(', ')}`);
  return v;
};

const program = new Command('balrog-vpn-proxy')
  .description('Forward http://balrog (port 80) over an OpenVPN tunnel to PROXIED_SERVER.')
  .addOption(
    new Option('--config-dir <dir>', 'VPN configuration directory').env('VPN_CONFIG_DIR').default('/vpn'),
  )
  .addOption(
    new Option(
      '--config <file>',
      'configuration file inside the directory (default: the only *.conf/*.ovpn, or config.conf)',
    ).env('VPN_CONFIG_FILE'),
  )
  .addOption(new Option('--port <port>', 'port to serve on').env('PORT').argParser(port).default(80))
  .addOption(
    new Option('--tunnel-timeout <s>', 'how long to wait for the tunnel')
      .env('TUNNEL_TIMEOUT')
      .argParser(seconds)
      .default(60),
  )
  .addOption(
    new Option('--timeout <s>', 'client and upstream socket timeout')
      .env('PROXY_TIMEOUT')
      .argParser(seconds)
      .default(120),
  )
  .addOption(
    new Option('--exit-grace <s>', 'after openvpn exits, keep answering 503 this long before exiting')
      .argParser(seconds)
      .default(2),
  )
  .option('--tun-device <path>', 'tun device path', '/dev/net/tun')
  .option('--openvpn <path>', 'openvpn executable', 'openvpn')
  .addOption(
    new Option('--log-level <level>', `pino level: ${LOG_LEVELS.join(', ')}`)
      .env('LOG_LEVEL')
      .argParser(logLevel)
      .default('info'),
  )
  .version(pkg.version, '-V, --version', 'print the version')
  .addHelpText(
    'after',
    `
Environment:
  PROXIED_SERVER  (required) the upstream URL, http:// or https://, e.g. https://aus4-admin.mozilla.org

The container needs --cap-add NET_ADMIN (and preferably --device /dev/net/tun). Example:
  docker run --cap-add NET_ADMIN --device /dev/net/tun -v /etc/docker-worker/vpn:/vpn:ro \\
    -e PROXIED_SERVER=https://aus4-admin.mozilla.org docker-worker/balrog-vpn-proxy:latest
Health: GET /__vpn/health.
Exit status: 0 stopped (SIGTERM), 1 runtime failure (tunnel never up, openvpn exited),
64 usage error (a bad flag, env value or input; one line on stderr).`,
  )
  .exitOverride()
  .configureOutput({
    outputError: (text, write) =>
      write(`balrog-vpn-proxy: ${text.trim().replace(/^error: /, '')} (see --help)\n`),
  })
  .action((opts: Options) => main(opts));

/** The operator log once the options are read (the level is one of them). */
let rootLog: Logger | undefined;

async function main(opts: Options): Promise<void> {
  const log = pino({
    name: 'balrog-vpn-proxy',
    level: opts.logLevel,
    redact: ['req.headers.authorization', 'headers.authorization'],
  });
  rootLog = log;
  const target = parseProxiedServer(process.env.PROXIED_SERVER);
  const vpn = findVpnConfig(opts.configDir, opts.config);
  checkNetAdmin(readProcStatus());
  if (ensureTun(opts.tunDevice)) log.info({ device: opts.tunDevice }, 'created the tun device');

  log.info({ config: vpn.file, upstream: target.origin }, 'starting openvpn');
  const openvpn = startOpenvpn({
    command: opts.openvpn,
    args: openvpnArgs(vpn.file, vpn.dir),
    cwd: vpn.dir,
    onLine: (line) => log.info({ src: 'openvpn' }, `openvpn: ${line}`),
  });
  const stopAndExit = (code: number): void => {
    openvpn.stop();
    const force = setTimeout(() => process.exit(code), 5000);
    void openvpn.exited.then(() => {
      clearTimeout(force);
      process.exit(code);
    });
  };
  // Handlers from the start: as PID 1, node would otherwise ignore `docker stop`'s SIGTERM.
  let stopping = false;
  const serving: { server?: Server } = {};
  for (const sig of ['SIGTERM', 'SIGINT'] as const) {
    process.once(sig, () => {
      stopping = true;
      log.info({ signal: sig }, 'stopping');
      serving.server?.close();
      serving.server?.closeAllConnections();
      stopAndExit(EXIT.ok);
    });
  }
  try {
    await openvpn.waitUntilUp(opts.tunnelTimeout * 1000);
  } catch (err) {
    if (stopping) return;
    log.error({ state: openvpn.status().state }, (err as Error).message);
    fail(`${(err as Error).message}; see the openvpn lines above.`);
    stopAndExit(EXIT.failure);
    return;
  }

  const app = createApp({
    target,
    tunnel: openvpn,
    probeUpstream: createUpstreamProbe(target, 5000),
    log,
    timeoutMs: opts.timeout * 1000,
  });
  if (stopping) return;
  const server = createServer(app);
  serving.server = server;
  server.listen(opts.port, () =>
    log.info({ port: opts.port, upstream: target.origin }, 'tunnel up, forwarding'),
  );

  void openvpn.exited.then((exit) => {
    if (stopping) return;
    log.error({ ...exit }, `${openvpn.status().state}; the VPN tunnel is gone, exiting`);
    server.close();
    setTimeout(() => {
      server.closeAllConnections();
      process.exit(EXIT.failure);
    }, opts.exitGrace * 1000);
  });
}

function fail(message: string): void {
  process.stderr.write(`balrog-vpn-proxy: ${message}\n`);
}

program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof CommanderError) {
    // commander has printed its one line (or the help or the version, which are not errors)
    const shown = ['commander.helpDisplayed', 'commander.help', 'commander.version'];
    process.exit(shown.includes(err.code) ? EXIT.ok : EXIT.usage);
  }
  if (err instanceof InputError) {
    fail(err.message);
    process.exit(EXIT.usage);
  }
  rootLog?.error({ err }, 'unexpected error');
  fail(`unexpected error: ${(err as Error).message}`);
  process.exit(EXIT.failure);
});
