/**
 * @module @docker-worker/encrypted-env
 * OpenPGP-encrypted task environment variables (`payload.encryptedEnv`): encrypt one variable for a
 * task, decrypt and validate them all on the worker.
 */
export { encryptEnvVar } from './encrypt.js';
export type { EncryptEnvVarOptions } from './encrypt.js';
export { decryptEnvVars, DEFAULT_RESERVED_NAMES } from './decrypt.js';
export type { DecryptEnvVarsOptions, EncryptedEnvIncident } from './decrypt.js';
export { EncryptedEnvError, RULES, publicMessage } from './errors.js';
export type { EncryptedEnvRule } from './errors.js';
export { readPrivateKey, readPublicKey, unlockPrivateKey, generateWorkerKeys } from './keys.js';
export type { PrivateKey, PublicKey, KeyType, GenerateWorkerKeysOptions } from './keys.js';
export { isValidEnvName } from './env-name.js';
export { readPassphraseFile, passphraseOf, PassphraseFileError } from './passphrase-file.js';
