/**
 * @module env-name
 * What counts as an environment variable name: anything Docker can pass as `NAME=value`, i.e. not
 * empty and without `=` or NUL. (POSIX shells want less, but containers may run anything.)
 */
export function isValidEnvName(name: unknown): name is string {
  return typeof name === 'string' && name.length > 0 && !name.includes('=') && !name.includes('\0');
}
