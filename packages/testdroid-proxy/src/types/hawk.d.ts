// The small part of hawk 9 this package uses (hawk ships no types).
declare module 'hawk' {
  export interface HawkCredentials {
    id: string;
    key: string;
    algorithm: 'sha256' | 'sha1';
  }
  export interface BewitRequest {
    method: string;
    url: string;
    headers: Record<string, string>;
  }
  export const uri: {
    getBewit(
      uri: string,
      options: { credentials: HawkCredentials; ttlSec: number; ext?: string; localtimeOffsetMsec?: number },
    ): string;
    authenticate(
      req: BewitRequest,
      credentialsFunc: (id: string) => HawkCredentials | undefined | Promise<HawkCredentials | undefined>,
      options?: { localtimeOffsetMsec?: number },
    ): Promise<{
      credentials: HawkCredentials;
      attributes: { id: string; exp: string; mac: string; ext: string };
    }>;
  };
  const hawk: { uri: typeof uri };
  export default hawk;
}
