/**
 * @module operator-log
 * The operator log: pino JSON lines on stderr (pretty on a TTY), credentials redacted. Separate
 * from the live log, which is the task author's.
 */
import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';

export const REDACT = ['*.accessToken', '*.certificate', '*.password', 'accessToken', 'certificate', 'password', '*.env', 'env'];

export function createOperatorLog(opts: { debug: boolean; level?: string }): Logger {
  const level = opts.debug ? 'debug' : (opts.level ?? 'warn');
  const options = { name: 'docker-worker', level, redact: { paths: REDACT, censor: '[redacted]' } };
  if (process.stderr.isTTY) return pino(options, pretty({ destination: 2, colorize: true }));
  return pino(options, pino.destination(2));
}
