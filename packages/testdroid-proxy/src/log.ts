/**
 * @module log
 * The operator log: pino JSON lines with every credential path redacted.
 */
import { pino, type Logger, type LoggerOptions } from 'pino';

export const REDACT_PATHS = [
  'password',
  '*.password',
  'accessToken',
  '*.accessToken',
  'certificate',
  '*.certificate',
  'access_token',
  '*.access_token',
  'refresh_token',
  '*.refresh_token',
  'signedBuild',
  'req.headers.authorization',
];

export function createLogger(options: LoggerOptions = {}, destination?: pino.DestinationStream): Logger {
  const opts: LoggerOptions = {
    name: 'testdroid-proxy',
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    ...options,
  };
  return destination ? pino(opts, destination) : pino(opts);
}
