/**
 * @module features/encrypted-env
 * payload.encryptedEnv through @docker-worker/encrypted-env with the worker's private key (config
 * keys.encryptedEnvPrivateKey, a file). Any broken rule → malformed-payload with the incident id and
 * no secret; so is a decrypted variable larger than Linux passes to a process (128 KiB), which would
 * otherwise fail the container's start. Every decrypted value is redacted from the live log as
 * `[secret]`. A protected key's passphrase (keys.passphraseFile) is read exactly as
 * `encrypted-env --passphrase-file` and gpg read it (`readPassphraseFile`: the first line without
 * its line ending; empty is refused).
 */
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { internalError, malformedPayload } from '../errors.js';
import { reservedEnv } from '../reserved-env.js';
import type { Feature } from './feature.js';

async function readKeyFile(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw internalError(
      `cannot read the worker's ${what} ${path} (worker config keys): ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
    );
  }
}

/** Linux's MAX_ARG_STRLEN: one `NAME=value` string (NUL included) longer than this cannot be exec'd. */
const MAX_ENV_STRING = 128 * 1024;

export const encryptedEnv: Feature = {
  name: 'encryptedEnv',
  isEnabled: () => true,
  isRequested: (task) => (task.payload.encryptedEnv ?? []).length > 0,
  async start(run) {
    const { keys } = run.config;
    if (!keys.encryptedEnvPrivateKey) {
      throw malformedPayload(
        'payload.encryptedEnv is set but this worker has no private key for it (worker config keys.encryptedEnvPrivateKey); remove encryptedEnv or use a worker pool that has one',
      );
    }
    const privateKey = await readKeyFile(keys.encryptedEnvPrivateKey, 'private key');
    // Loaded on first use: OpenPGP is the heaviest import of the runner.
    const { decryptEnvVars, EncryptedEnvError, PassphraseFileError, readPassphraseFile } =
      await import('@docker-worker/encrypted-env');
    const passphrase = keys.passphraseFile
      ? await readPassphraseFile(keys.passphraseFile).catch((err: unknown) => {
          if (!(err instanceof PassphraseFileError)) throw err;
          throw internalError(`${err.message} (worker config keys.passphraseFile)`);
        })
      : undefined;
    const plain = run.task.payload.env ?? {};
    let merged: Record<string, string>;
    try {
      merged = await decryptEnvVars({
        privateKey,
        ...(passphrase === undefined ? {} : { passphrase }),
        taskId: run.task.taskId,
        env: plain,
        encryptedEnv: run.task.payload.encryptedEnv ?? [],
        now: run.clock.now(),
        reservedNames: Object.keys(reservedEnv(run)),
        onIncident: (incident) => run.log.warn({ incident }, 'encryptedEnv violation'),
      });
    } catch (err) {
      if (err instanceof EncryptedEnvError) throw malformedPayload(err.message, err);
      throw err;
    }
    for (const [name, value] of Object.entries(merged)) {
      if (name in plain) continue;
      // Checked before the value joins the redactor (a 10 MiB one would only cost it memory).
      const bytes = Buffer.byteLength(`${name}=${value}`) + 1;
      if (bytes > MAX_ENV_STRING) {
        const incidentId = randomUUID();
        run.log.warn(
          { incident: { incidentId, rule: 'size', detail: `variable ${name}: ${bytes} bytes` } },
          'encryptedEnv violation',
        );
        throw malformedPayload(
          `secret data violation -- a decrypted variable is larger than ${MAX_ENV_STRING} bytes (NAME=value), the most Linux passes to a process as one environment variable; keep the secret small (a large one belongs in a secrets service, fetched by the task); incidentId: ${incidentId}`,
        );
      }
      run.liveLog.addSecret(value);
    }
    return { contribution: { taskEnv: merged } };
  },
};
