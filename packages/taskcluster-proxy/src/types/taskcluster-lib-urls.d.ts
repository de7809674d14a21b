// The part of taskcluster-lib-urls 13 the proxy uses (it ships no types).
declare module 'taskcluster-lib-urls' {
  /** `<rootUrl>/api/<service>/<version>/<path>`: trailing `/` of rootUrl and leading `/` of path trimmed. */
  export function api(rootUrl: string, service: string, version: string, path: string): string;
}
