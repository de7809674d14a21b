/**
 * @module config
 * The proxy's settings from command-line options and environment variables (options win),
 * checked into a plain typed object. Each problem is one line saying what to pass.
 */
import { readFileSync } from 'node:fs';
import { validScope } from 'taskcluster-lib-scopes';
import { DEFAULT_ACQUIRE_OPTIONS } from './device/options.js';

export interface ProxyConfig {
  cloudUrl: string;
  username: string;
  password: string;
  /** Signing credentials; `authorizedScopes` = the task's scopes (the CLI's arguments after `--`). */
  taskcluster: { clientId: string; accessToken: string; certificate?: string; authorizedScopes: string[] };
  deviceTimeoutSec: number;
  port: number;
  host: string;
  proxyHost: string;
  logLevel: string;
  /** Polling intervals of the device flow, in ms (defaults: `DEFAULT_ACQUIRE_OPTIONS`). */
  polls: { flashPollMs: number; proxyPollMs: number };
}

/** pino's levels: anything else makes pino throw at start. */
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export type RawOptions = Partial<
  Record<
    | 'cloudUrl'
    | 'username'
    | 'password'
    | 'taskclusterClientId'
    | 'taskclusterAccessToken'
    | 'taskclusterCertificate'
    | 'deviceTimeout'
    | 'port'
    | 'host'
    | 'proxyHost'
    | 'logLevel'
    | 'flashPollMs'
    | 'proxyPollMs',
    string
  >
>;

/** Option → environment variable. */
export const ENV: Readonly<Record<keyof RawOptions, string>> = {
  cloudUrl: 'TESTDROID_CLOUD_URL',
  username: 'TESTDROID_USERNAME',
  password: 'TESTDROID_PASSWORD',
  taskclusterClientId: 'TASKCLUSTER_CLIENT_ID',
  taskclusterAccessToken: 'TASKCLUSTER_ACCESS_TOKEN',
  taskclusterCertificate: 'TASKCLUSTER_CERTIFICATE',
  deviceTimeout: 'DEVICE_TIMEOUT',
  port: 'PORT',
  host: 'HOST',
  proxyHost: 'TESTDROID_PROXY_HOST',
  logLevel: 'LOG_LEVEL',
  flashPollMs: 'TESTDROID_FLASH_POLL_MS',
  proxyPollMs: 'TESTDROID_PROXY_POLL_MS',
};

/** The options that may also be read from a file named by `<VAR>_FILE`. */
const SECRET_KEYS: ReadonlySet<keyof RawOptions> = new Set([
  'password',
  'taskclusterAccessToken',
  'taskclusterCertificate',
]);

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/**
 * @param scopes the task's scopes: every bewit is restricted to them (`authorizedScopes`); none
 * leaves only the anonymous role. Never the worker's own scopes: the task chooses the URL signed.
 */
export function resolveConfig(
  options: RawOptions,
  env: Readonly<Record<string, string | undefined>>,
  scopes: readonly string[] = [],
): ProxyConfig {
  const get = (key: keyof RawOptions): string | undefined => {
    const v = options[key] ?? env[ENV[key]] ?? fromFile(key);
    return v === undefined || v === '' ? undefined : v;
  };
  /** Secrets may come as files (`<VAR>_FILE`), so that they are not in the container's environment. */
  const fromFile = (key: keyof RawOptions): string | undefined => {
    const file = SECRET_KEYS.has(key) ? env[`${ENV[key]}_FILE`] : undefined;
    if (!file) return undefined;
    try {
      return readFileSync(file, 'utf8').replace(/\r?\n$/, '');
    } catch (err) {
      throw new ConfigError(
        `${ENV[key]}_FILE=${file}: cannot read it (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
      );
    }
  };
  const flag = (key: keyof RawOptions): string => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
  const required = (key: keyof RawOptions): string => {
    const v = get(key);
    if (v === undefined) throw new ConfigError(`missing ${flag(key)} (or env ${ENV[key]})`);
    return v;
  };

  let cloudUrl = required('cloudUrl');
  let parsed: URL;
  try {
    parsed = new URL(cloudUrl);
  } catch {
    throw new ConfigError(`${flag('cloudUrl')} must be an http(s) URL like https://cloud.testdroid.com/`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new ConfigError(`${flag('cloudUrl')} must be an http(s) URL like https://cloud.testdroid.com/`);
  }
  if (!cloudUrl.endsWith('/')) cloudUrl += '/';

  const integer = (key: keyof RawOptions, value: string, min: number, max: number): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || n < min || n > max)
      throw new ConfigError(`${flag(key)} must be an integer from ${min} to ${max}, got "${value}"`);
    return n;
  };

  const certificate = get('taskclusterCertificate');
  if (certificate !== undefined) {
    try {
      JSON.parse(certificate);
    } catch {
      throw new ConfigError(
        `${flag('taskclusterCertificate')} must be the certificate JSON exactly as issued`,
      );
    }
  }

  scopes.forEach((scope, i) => {
    if (!validScope(scope))
      throw new ConfigError(
        `task scope ${i + 1} (after --) is not a valid scope: scopes are printable ASCII, without control characters or newlines`,
      );
  });

  const logLevel = get('logLevel') ?? 'info';
  if (!LOG_LEVELS.includes(logLevel))
    throw new ConfigError(`${flag('logLevel')} must be one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`);
  const pollMs = (key: 'flashPollMs' | 'proxyPollMs', fallback: number): number => {
    const v = get(key);
    return v === undefined ? fallback : integer(key, v, 1, 3_600_000);
  };

  return {
    cloudUrl,
    username: required('username'),
    password: required('password'),
    taskcluster: {
      clientId: required('taskclusterClientId'),
      accessToken: required('taskclusterAccessToken'),
      ...(certificate !== undefined ? { certificate } : {}),
      authorizedScopes: [...scopes],
    },
    deviceTimeoutSec: integer('deviceTimeout', required('deviceTimeout'), 1, 7 * 24 * 3600),
    port: integer('port', get('port') ?? '80', 0, 65535),
    host: get('host') ?? '0.0.0.0',
    proxyHost: get('proxyHost') ?? '10.1.2.9',
    logLevel,
    polls: {
      flashPollMs: pollMs('flashPollMs', DEFAULT_ACQUIRE_OPTIONS.flashPollMs),
      proxyPollMs: pollMs('proxyPollMs', DEFAULT_ACQUIRE_OPTIONS.proxyPollMs),
    },
  };
}
