/**
 * @module device/options
 * Intervals, deadlines and counts of the device flow, with the defaults of PROTOCOLS.md §7.3.
 */
export interface AcquireOptions {
  /** Whole attempts (find → session, else flash → session). Default 2. */
  attempts: number;
  /** Session tries per device. Default 5. */
  sessionTries: number;
  /** Sleep after a failed session try. Default 2 s. */
  sessionRetryMs: number;
  /** Sleep between whole attempts. Default 10 s. */
  attemptDelayMs: number;
  /** Flash project name (exact, case-insensitive). Default `flash-fxos-new-url`. */
  flashProject: string;
  /** Flash run polling interval. Default 10 s. */
  flashPollMs: number;
  /** Deadline for the flash run and for the flashed device coming back. Default 10 min. */
  flashDeadlineMs: number;
  /** Polling interval while waiting for the flashed device to be online and unlocked. Default 10 s. */
  deviceOnlinePollMs: number;
  /** Proxy list polls per proxy type. Default 30. */
  proxyTries: number;
  /** Sleep between proxy list polls. Default 5 s. */
  proxyPollMs: number;
  /** Minimum bewit lifetime of the signed build URL (it also lasts the session). Default 1 h. */
  bewitTtlSec: number;
}

export const DEFAULT_ACQUIRE_OPTIONS: Readonly<AcquireOptions> = {
  attempts: 2,
  sessionTries: 5,
  sessionRetryMs: 2_000,
  attemptDelayMs: 10_000,
  flashProject: 'flash-fxos-new-url',
  flashPollMs: 10_000,
  flashDeadlineMs: 10 * 60_000,
  deviceOnlinePollMs: 10_000,
  proxyTries: 30,
  proxyPollMs: 5_000,
  bewitTtlSec: 3_600,
};
