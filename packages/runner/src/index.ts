/**
 * @module @docker-worker/runner
 * The docker-worker task lifecycle over features, as a library and the CLI `docker-worker`.
 */
export const packageName = '@docker-worker/runner';
