// The parts of taskcluster-client 87 the proxy's tests use (it ships no types).
declare module 'taskcluster-client' {
  export interface Credentials {
    clientId: string;
    accessToken: string;
    certificate?: string | Record<string, unknown>;
  }
  export function createTemporaryCredentials(options: { credentials: Credentials; scopes: string[]; expiry: Date; clientId?: string }): Required<Credentials> & {
    certificate: string;
  };
  export class Auth {
    constructor(options: { rootUrl: string; credentials?: Credentials; retries?: number });
    currentScopes(): Promise<{ scopes: string[] }>;
  }
  const taskcluster: { createTemporaryCredentials: typeof createTemporaryCredentials; Auth: typeof Auth };
  export default taskcluster;
}
