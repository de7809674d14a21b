/**
 * @module operator-log
 * The operator log: pino JSON lines on stderr (pretty on a TTY), credentials redacted. Separate
 * from the live log, which is the task author's.
 */
import { pino, type Logger } from 'pino';
import { UsageError } from './errors.js';

export const REDACT = [
  '*.accessToken',
  '*.certificate',
  '*.password',
  'accessToken',
  'certificate',
  'password',
  '*.env',
  'env',
];

/**
 * pino's error serializer without the stack: stack traces only with --debug. A value that is not an
 * error (`{err: String(e)}`) is logged as it is, not spread into one key per character.
 */
export function errorWithoutStack(err: unknown): unknown {
  if (typeof err !== 'object' || err === null) return err;
  const { stack: _stack, ...rest } = pino.stdSerializers.err(err as Error);
  return rest;
}

export async function createOperatorLog(opts: { debug: boolean; level?: string }): Promise<Logger> {
  const level = opts.debug ? 'debug' : opts.level || 'warn';
  if (!(level in pino.levels.values) && level !== 'silent') {
    throw new UsageError(
      `LOG_LEVEL=${level} is not a log level; use one of ${[...Object.keys(pino.levels.values), 'silent'].join(', ')}`,
    );
  }
  const options = {
    name: 'docker-worker',
    level,
    redact: { paths: REDACT, censor: '[redacted]' },
    serializers: { err: opts.debug ? pino.stdSerializers.err : errorWithoutStack },
  };
  if (process.stderr.isTTY) {
    const { default: pretty } = await import('pino-pretty');
    return pino(options, pretty({ destination: 2, colorize: true }));
  }
  return pino(options, pino.destination(2));
}
