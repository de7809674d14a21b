// The part of taskcluster-lib-scopes 11 the proxy uses (it ships no types).
declare module 'taskcluster-lib-scopes' {
  /** A string of printable ASCII (0x20-0x7e). */
  export function validScope(scope: unknown): boolean;
}
