// The parts of hawk 9 this package uses (hawk ships no types): the client for signing, the server
// and the header parser for the signing tests. (fake-taskcluster declares its own, with the payload
// hash; @types/hawk would pull in the deprecated @types/request and @hapi/boom. The test type-check,
// tsconfig.test.json, includes that superset and leaves this file out: two `hawk` constants clash.)
declare module 'hawk' {
  export interface HawkCredentials {
    id?: string;
    key: string;
    algorithm: 'sha1' | 'sha256';
  }
  export interface HawkRequest {
    method: string;
    url: string;
    host: string;
    port: number;
    authorization?: string;
  }
  export interface HawkArtifacts {
    method: string;
    host: string;
    port: number;
    resource: string;
    ts: string;
    nonce: string;
    hash?: string;
    ext?: string;
    mac: string;
    id: string;
  }
  export interface HawkServerOptions {
    timestampSkewSec?: number;
    localtimeOffsetMsec?: number;
  }
  export interface HawkUri {
    protocol: string;
    hostname: string;
    port: string | number;
    pathname: string;
    search: string;
  }
  export interface HawkClientOptions {
    credentials: HawkCredentials & { id: string };
    ext?: string;
    /** A pre-generated nonce (default: cryptiles.randomString(6)). */
    nonce?: string;
  }
  export interface HawkBewitOptions {
    credentials: HawkCredentials & { id: string };
    ttlSec: number;
    ext?: string;
  }
  const hawk: {
    server: {
      authenticate<C extends HawkCredentials>(
        req: HawkRequest,
        credentialsFunc: (id: string) => Promise<C | null>,
        options?: HawkServerOptions,
      ): Promise<{ credentials: C; artifacts: HawkArtifacts }>;
      authenticateBewit<C extends HawkCredentials>(
        req: HawkRequest,
        credentialsFunc: (id: string) => Promise<C | null>,
        options?: HawkServerOptions,
      ): Promise<{ credentials: C; attributes: { id: string; exp: string; mac: string; ext: string } }>;
    };
    client: {
      header(
        uri: string | HawkUri,
        method: string,
        options: HawkClientOptions,
      ): { header: string; artifacts: HawkArtifacts };
      getBewit(uri: string | HawkUri, options: HawkBewitOptions): string;
    };
    utils: {
      parseAuthorizationHeader(header: string, keys?: string[]): Record<string, string>;
    };
  };
  export default hawk;
}
