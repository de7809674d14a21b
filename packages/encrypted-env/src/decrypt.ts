/**
 * @module decrypt
 * Worker side: `payload.encryptedEnv` → the task's environment. Messages are decrypted concurrently
 * (the costly part) and then validated strictly in order, so the first failing message (and for
 * duplicates, the later of the two) is reported deterministically.
 */
import * as openpgp from 'openpgp';
import type { PrivateKey } from 'openpgp';
import { EncryptedEnvError } from './errors.js';
import type { EncryptedEnvRule } from './errors.js';
import { readPrivateKey, unlockPrivateKey } from './keys.js';
import { checkMessage, parseMessage } from './message.js';
import { rsaKeysOf, rsaSessionKeys } from './rsa-session-key.js';
import type { Violation } from './message.js';

export const DEFAULT_RESERVED_NAMES: readonly string[] = ['TASK_ID', 'RUN_ID'];

/** What the worker may write to its own debug log about a violation (never the value). */
export interface EncryptedEnvIncident {
  incidentId: string;
  rule: EncryptedEnvRule;
  index: number;
  detail: string;
}

export interface DecryptEnvVarsOptions {
  /** The worker's private key: read once with `readPrivateKey`, or armored text. */
  privateKey: PrivateKey | string;
  /** For a passphrase-protected key. */
  passphrase?: string;
  taskId: string;
  /** `payload.env` (absent = `{}`). */
  env: Record<string, string> | undefined;
  /** `payload.encryptedEnv` (absent = none). */
  encryptedEnv: string[] | undefined;
  /** Milliseconds since the epoch. */
  now: number;
  /** Names the worker sets itself (default `TASK_ID`, `RUN_ID`); pass every one. */
  reservedNames?: readonly string[];
  /** Called once before a violation is thrown, with a detail for the worker's debug log. */
  onIncident?: (incident: EncryptedEnvIncident) => void;
}

type Opened =
  | { ok: true; plaintext: Uint8Array }
  | { ok: false; rule: EncryptedEnvRule; detail: string; cause?: unknown };

/**
 * The largest plaintext a message may have (the JSON around the value included), enforced while it
 * is decompressed: a compressed OpenPGP message of 1 MB can hold 1 GiB (openpgp would buffer all
 * of it; 2.1 GB of peak RSS measured), and no environment variable comes near this (Linux passes
 * at most 128 KiB per variable to a process).
 */
export const MAX_PLAINTEXT_BYTES = 2 ** 20;
// openpgp's words for it (zlib and zip; bzip2): the tests pin both, so a change of wording shows.
const TOO_LARGE = /Maximum decompressed (message )?size exceeded/;

// Lenient like Node's decoder (whitespace, no padding, URL-safe `-`/`_`), but not any text at all.
const BASE64ISH = /^[A-Za-z0-9+/\-_=\s]+$/;

const tooLarge: Opened = {
  ok: false,
  rule: 'size',
  detail: `the plaintext passes ${MAX_PLAINTEXT_BYTES} bytes (decompression stopped there)`,
};

async function open(
  item: unknown,
  key: PrivateKey,
  rsaKeys: Awaited<ReturnType<typeof rsaKeysOf>>,
): Promise<Opened> {
  if (typeof item !== 'string' || !BASE64ISH.test(item)) {
    return {
      ok: false,
      rule: 'base64',
      detail: typeof item === 'string' ? 'characters outside base64' : `a ${typeof item}, not a string`,
    };
  }
  const bytes = Buffer.from(item, 'base64');
  if (bytes.length === 0) return { ok: false, rule: 'base64', detail: 'decodes to nothing' };
  let message: openpgp.Message<Uint8Array>;
  try {
    message = await openpgp.readMessage({ binaryMessage: bytes });
  } catch (cause) {
    return { ok: false, rule: 'openpgp', detail: errorText(cause), cause };
  }
  try {
    // RSA session keys natively, with implicit rejection (rsa-session-key.ts); otherwise openpgp.js.
    const sessionKeys = rsaSessionKeys(message, rsaKeys);
    // Decompressed, the plaintext comes with its literal packet's header: room for that.
    const config = { maxDecompressedMessageSize: MAX_PLAINTEXT_BYTES + 4096 };
    const { data } =
      sessionKeys.length > 0
        ? await openpgp.decrypt({ message, sessionKeys, format: 'binary', config })
        : await openpgp.decrypt({ message, decryptionKeys: key, format: 'binary', config });
    if (data.length > MAX_PLAINTEXT_BYTES) return tooLarge;
    return { ok: true, plaintext: data };
  } catch (err) {
    // Decompression comes after the integrity check: the message opened, so saying so tells an
    // attacker nothing about the key.
    if (err instanceof Error && TOO_LARGE.test(err.message)) return tooLarge;
    // One answer for every decryption failure (bad padding, bad checksum, wrong key, corrupt data):
    // which step failed is exactly what a padding-oracle attacker wants to learn, so neither the
    // task's error nor the worker's log says it, and openpgp's error is not kept as the cause.
    return { ok: false, rule: 'decrypt', detail: DECRYPT_FAILED };
  }
}

/** The incident detail of every decryption failure. */
export const DECRYPT_FAILED =
  'no session key of this message opens its encrypted data with the private key (wrong key, or a damaged or forged message)';

/**
 * Decrypts and validates every message and returns `payload.env` merged with the decrypted variables.
 * Throws `EncryptedEnvError` for the first message that breaks a rule.
 * @example
 * const env = await decryptEnvVars({ privateKey, taskId, env: payload.env,
 *   encryptedEnv: payload.encryptedEnv ?? [], now: Date.now(), reservedNames: ['TASK_ID', 'RUN_ID'] });
 */
export async function decryptEnvVars(opts: DecryptEnvVarsOptions): Promise<Record<string, string>> {
  const key =
    typeof opts.privateKey === 'string'
      ? await readPrivateKey(
          opts.privateKey,
          opts.passphrase === undefined ? {} : { passphrase: opts.passphrase },
        )
      : await unlockPrivateKey(opts.privateKey, opts.passphrase);
  const entries = new Map<string, string>(Object.entries(opts.env ?? {}));
  const reserved = new Set(opts.reservedNames ?? DEFAULT_RESERVED_NAMES);
  const rsaKeys = await rsaKeysOf(key);
  const opened = await Promise.all((opts.encryptedEnv ?? []).map((item) => open(item, key, rsaKeys)));

  const fail = (index: number, v: Violation, cause?: unknown): never => {
    const err = new EncryptedEnvError({ rule: v.rule, index, cause });
    opts.onIncident?.({ incidentId: err.incidentId, rule: v.rule, index, detail: v.detail });
    throw err;
  };
  for (const [index, o] of opened.entries()) {
    if (!o.ok) fail(index, o, o.cause);
    else {
      const parsed = parseMessage(o.plaintext);
      if (!parsed.ok) fail(index, parsed.violation);
      else {
        const m = parsed.message;
        const violation = checkMessage(m, { taskId: opts.taskId, now: opts.now, reserved, taken: entries });
        if (violation) fail(index, violation);
        entries.set(m.name, m.value);
      }
    }
  }
  return Object.fromEntries(entries);
}

function errorText(err: unknown): string {
  return err instanceof Error ? (err.message.split('\n')[0] ?? '') : String(err);
}
