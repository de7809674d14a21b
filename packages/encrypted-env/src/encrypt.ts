/**
 * @module encrypt
 * Task author's side: one variable → the base64 string that goes into `payload.encryptedEnv`.
 */
import * as openpgp from 'openpgp';
import type { PublicKey } from 'openpgp';
import { isValidEnvName } from './env-name.js';
import { oneLine, readPublicKey } from './keys.js';

export interface EncryptEnvVarOptions {
  /** The worker's armored public key (or one read with `readPublicKey`). */
  publicKey: string | PublicKey;
  taskId: string;
  name: string;
  value: string;
  /** Milliseconds since the epoch: the message is valid from this time... */
  startTime: number;
  /** ...until this time. */
  endTime: number;
}

/**
 * Encrypts `{messageVersion: 1, taskId, startTime, endTime, name, value}` to the worker's key and
 * returns the base64 of the binary OpenPGP message.
 * @example
 * const msg = await encryptEnvVar({ publicKey, taskId, name: 'TOKEN', value: 's3cr3t',
 *   startTime: Date.now(), endTime: Date.now() + 24 * 3600_000 });
 */
export async function encryptEnvVar(opts: EncryptEnvVarOptions): Promise<string> {
  if (typeof opts.taskId !== 'string' || opts.taskId === '')
    throw new Error('taskId must be a non-empty string');
  if (!isValidEnvName(opts.name))
    throw new Error('name must be a non-empty environment variable name without "=" or NUL');
  if (typeof opts.value !== 'string') throw new Error('value must be a string');
  if (!Number.isFinite(opts.startTime) || !Number.isFinite(opts.endTime)) {
    throw new Error('startTime and endTime must be numbers (milliseconds since the epoch)');
  }
  if (opts.endTime < opts.startTime)
    throw new Error('endTime is before startTime; the message would never be valid');
  const key = typeof opts.publicKey === 'string' ? await readPublicKey(opts.publicKey) : opts.publicKey;
  const text = JSON.stringify({
    messageVersion: 1,
    taskId: opts.taskId,
    startTime: opts.startTime,
    endTime: opts.endTime,
    name: opts.name,
    value: opts.value,
  });
  let bytes: Uint8Array;
  try {
    bytes = await openpgp.encrypt({
      message: await openpgp.createMessage({ text }),
      encryptionKeys: key,
      format: 'binary',
    });
  } catch (cause) {
    // openpgp's messages here are about the key (expired, no encryption subkey), never the plaintext.
    throw new Error(
      `cannot encrypt to this public key (${oneLine(cause)}); use the worker's current encryption key`,
      { cause },
    );
  }
  return Buffer.from(bytes).toString('base64');
}
