/**
 * @module @docker-worker/encrypted-env
 * OpenPGP-encrypted task environment variables (payload.encryptedEnv): library, CLI `encrypted-env` and image.
 */
export const packageName = '@docker-worker/encrypted-env';
