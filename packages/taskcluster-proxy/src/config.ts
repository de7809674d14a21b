/**
 * @module config
 * Turns CLI options and the environment into the proxy's configuration; every problem is one
 * line saying what is wrong and how to fix it (`ConfigError`).
 */
import { readFileSync } from 'node:fs';
import { pino } from 'pino';
import { validScope } from 'taskcluster-lib-scopes';
import { CredentialsError, parseCredentials } from './credentials.js';
import type { Credentials } from './credentials.js';

export class ConfigError extends Error {}

export interface CliOptions {
  port: number;
  ipAddress: string;
  rootUrl?: string;
  clientId?: string;
  accessToken?: string;
  certificate?: string;
  scopesFile?: string;
  allScopes?: boolean;
  taskId?: string;
  /** Seconds. */
  upstreamTimeout: number;
}

export interface ProxyConfig {
  port: number;
  host: string;
  rootUrl: string;
  credentials: Credentials;
  authorizedScopes: string[] | undefined;
  /** --task-id: the task's scopes are fetched at start and added to authorizedScopes. */
  taskId: string | undefined;
  credentialsSecret: string | undefined;
  upstreamTimeoutMs: number;
  /** pino level, from LOG_LEVEL (default info). */
  logLevel: string;
}

type Env = Record<string, string | undefined>;

function readScopesFile(file: string): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError(
      `--scopes-file ${file}: cannot read a JSON array of scopes (${(err as Error).message})`,
    );
  }
  if (!Array.isArray(parsed) || !parsed.every((s) => typeof s === 'string'))
    throw new ConfigError(`--scopes-file ${file}: expected a JSON array of scope strings`);
  return parsed;
}

/** `NAME`, else the content of the file named by `NAME_FILE` (one trailing newline dropped). */
function fromEnvOrFile(env: Env, name: string, what: string): string | undefined {
  if (env[name]) return env[name];
  const file = env[`${name}_FILE`];
  if (!file) return undefined;
  try {
    const value = readFileSync(file, 'utf8').replace(/\r?\n$/, '');
    if (value.trim() === '') throw new Error('the file is empty');
    return value;
  } catch (err) {
    throw new ConfigError(`${name}_FILE=${file}: cannot read ${what} (${(err as Error).message})`);
  }
}

const readSecret = (env: Env): string | undefined =>
  fromEnvOrFile(env, 'TASKCLUSTER_PROXY_CREDENTIALS_SECRET', 'the secret');

export function loadConfig(opts: CliOptions, scopes: string[], env: Env): ProxyConfig {
  const rootUrl = opts.rootUrl ?? env.TASKCLUSTER_ROOT_URL;
  if (!rootUrl) throw new ConfigError('no root URL: pass --root-url URL or set TASKCLUSTER_ROOT_URL');
  try {
    const u = new URL(rootUrl);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('not http(s)');
  } catch {
    throw new ConfigError(
      `root URL ${JSON.stringify(rootUrl)} is not an http(s) URL (e.g. https://tc.example.com)`,
    );
  }
  const clientId = opts.clientId ?? env.TASKCLUSTER_CLIENT_ID;
  // Secrets may come as files (`_FILE`), so that they are not in the container's environment.
  const accessToken = opts.accessToken ?? fromEnvOrFile(env, 'TASKCLUSTER_ACCESS_TOKEN', 'the access token');
  if (!clientId || !accessToken)
    throw new ConfigError(
      'no credentials: pass --client-id and --access-token or set TASKCLUSTER_CLIENT_ID and TASKCLUSTER_ACCESS_TOKEN',
    );
  let credentials: Credentials;
  try {
    credentials = parseCredentials({
      clientId,
      accessToken,
      certificate: opts.certificate ?? fromEnvOrFile(env, 'TASKCLUSTER_CERTIFICATE', 'the certificate'),
    });
  } catch (err) {
    if (err instanceof CredentialsError)
      throw new ConfigError(`--certificate / TASKCLUSTER_CERTIFICATE: ${err.message}`);
    throw err;
  }
  if (opts.scopesFile && scopes.length > 0)
    throw new ConfigError('give the scopes either as arguments or with --scopes-file, not both');
  if (opts.allScopes && (opts.scopesFile || scopes.length > 0 || opts.taskId))
    throw new ConfigError('--all-scopes cannot be combined with scopes or --task-id');
  const authorizedScopes = opts.allScopes
    ? undefined
    : opts.scopesFile
      ? readScopesFile(opts.scopesFile)
      : scopes;
  const invalid = authorizedScopes?.find((s) => !validScope(s));
  if (invalid !== undefined)
    throw new ConfigError(
      `scope ${JSON.stringify(invalid)} is not a valid scope: scopes are printable ASCII (0x20-0x7e, no control characters); check the ${opts.scopesFile ? `--scopes-file ${opts.scopesFile}` : 'scope arguments'}`,
    );
  return {
    port: opts.port,
    host: opts.ipAddress,
    rootUrl,
    credentials,
    authorizedScopes,
    taskId: opts.taskId,
    credentialsSecret: readSecret(env),
    upstreamTimeoutMs: Math.round(opts.upstreamTimeout * 1000),
    logLevel: logLevel(env.LOG_LEVEL),
  };
}

/** LOG_LEVEL: one of pino's levels, or silent; unset or empty = info. */
export function logLevel(value: string | undefined): string {
  if (value === undefined || value === '') return 'info';
  const levels = [...Object.keys(pino.levels.values), 'silent'];
  if (!levels.includes(value))
    throw new ConfigError(
      `LOG_LEVEL=${JSON.stringify(value)} is not a log level; use one of ${levels.join(', ')}`,
    );
  return value;
}
