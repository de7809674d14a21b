// The small part of hawk 9 this package uses (hawk ships no types). The test program uses
// fake-taskcluster's declarations instead (a superset with the same shapes), see tsconfig.test.json.
declare module 'hawk' {
  export interface HawkCredentials {
    id?: string;
    key: string;
    algorithm: 'sha1' | 'sha256';
  }
  export interface HawkBewitOptions {
    credentials: HawkCredentials & { id: string };
    ttlSec: number;
    ext?: string;
    localtimeOffsetMsec?: number;
  }
  const hawk: {
    client: {
      getBewit(uri: string, options: HawkBewitOptions): string;
    };
  };
  export default hawk;
}
