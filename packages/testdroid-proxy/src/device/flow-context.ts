/**
 * @module device/flow-context
 * What every step of the device flow needs: the cloud, time, options, an abort signal, a logger.
 */
import type { Logger } from 'pino';
import type { CloudClient } from '../cloud/client.js';
import type { Clock } from './clock.js';
import type { AcquireOptions } from './options.js';

export interface FlowContext {
  cloud: CloudClient;
  clock: Clock;
  options: AcquireOptions;
  log: Logger;
  random: () => number;
  signal?: AbortSignal;
}
