/**
 * @module errors
 * The one error class of this package. A violation says which rule failed and carries an incident id;
 * its text never contains the decrypted value, nor (for the upstream rules) the variable's name.
 */
import { randomUUID } from 'node:crypto';

/** The rules, in the order they are checked for each message. */
export const RULES = [
  'base64',
  'openpgp',
  'decrypt',
  'size',
  'json',
  'shape',
  'version',
  'task-id',
  'start-time',
  'end-time',
  'reserved-name',
  'duplicate-name',
] as const;

export type EncryptedEnvRule = (typeof RULES)[number];

/**
 * The public text of each rule (what the task log shows). The last six are docker-worker's own
 * words (PROTOCOLS.md §5.2), kept verbatim so that logs and tests stay comparable.
 */
export function publicMessage(rule: EncryptedEnvRule, index: number): string {
  const at = `encryptedEnv[${index}]`;
  switch (rule) {
    case 'base64':
      return `${at} is not base64; base64-encode the binary OpenPGP message (gpg --encrypt without --armor, then base64 -w0)`;
    case 'openpgp':
      return `${at} is not an OpenPGP message; encrypt the JSON with the worker's public key, then base64-encode it`;
    case 'decrypt':
      return `${at} could not be decrypted with the worker's private key; encrypt it to this worker pool's public key`;
    case 'size':
      return `${at} decrypts to more than 1 MiB (it may be compressed); encrypt a smaller value (Linux passes at most 128 KiB per environment variable)`;
    case 'json':
      return `${at} did not decrypt to JSON; encrypt a JSON object {messageVersion, taskId, startTime, endTime, name, value}`;
    case 'shape':
      return `${at} is not of the right shape; it needs messageVersion 1, taskId (string), startTime and endTime (ms since epoch), name (a valid environment variable name) and value (string)`;
    case 'version':
      return 'the version of the message is not supported';
    case 'task-id':
      return 'the taskId of the env payload does not match the taskId of the task';
    case 'start-time':
      return 'the start time in the env payload is in the future';
    case 'end-time':
      return 'the end time in the env payload is in the past';
    case 'reserved-name':
      return 'an environment variable conflicts with an existing environment variable';
    case 'duplicate-name':
      return 'an environment variable has been duplicated in the task payload';
  }
}

export interface EncryptedEnvErrorOptions {
  rule: EncryptedEnvRule;
  index: number;
  /**
   * Only errors that cannot hold plaintext (base64 or OpenPGP parse failures). Ignored for
   * `decrypt`: every decryption failure is one and the same error (no padding oracle).
   */
  cause?: unknown;
  incidentId?: string;
}

/**
 * A message of `payload.encryptedEnv` broke a rule. `message` is
 * `secret data violation -- <public message>; incidentId: <uuid>`.
 */
export class EncryptedEnvError extends Error {
  override readonly name = 'EncryptedEnvError';
  readonly rule: EncryptedEnvRule;
  readonly incidentId: string;
  /** Which message of `encryptedEnv` (0-based). */
  readonly index: number;

  constructor(opts: EncryptedEnvErrorOptions) {
    const incidentId = opts.incidentId ?? randomUUID();
    super(
      `secret data violation -- ${publicMessage(opts.rule, opts.index)}; incidentId: ${incidentId}`,
      opts.cause === undefined || opts.rule === 'decrypt' ? undefined : { cause: opts.cause },
    );
    this.rule = opts.rule;
    this.incidentId = incidentId;
    this.index = opts.index;
  }

  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      message: this.message,
      rule: this.rule,
      incidentId: this.incidentId,
      index: this.index,
    };
  }
}
