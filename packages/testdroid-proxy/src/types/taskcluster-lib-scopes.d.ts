// The part of taskcluster-lib-scopes 11 this package uses (it ships no types).
declare module 'taskcluster-lib-scopes' {
  /** A scope is a string of printable ASCII (0x20–0x7e). */
  export function validScope(scope: unknown): boolean;
}
