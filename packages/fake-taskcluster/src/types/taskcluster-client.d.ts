// The parts of taskcluster-client 87 the tests use (it ships no types).
declare module 'taskcluster-client' {
  export interface Credentials {
    clientId: string;
    accessToken: string;
    certificate?: string | Record<string, unknown>;
  }
  export interface ClientOptions {
    rootUrl: string;
    credentials?: Credentials;
    authorizedScopes?: string[];
    retries?: number;
  }
  export interface TemporaryCredentialsOptions {
    credentials: Credentials;
    scopes: string[];
    start?: Date;
    expiry: Date;
    clientId?: string;
  }
  export function createTemporaryCredentials(options: TemporaryCredentialsOptions): {
    clientId: string;
    accessToken: string;
    certificate: string;
  };
  export class Auth {
    constructor(options: ClientOptions);
    currentScopes(): Promise<{ scopes: string[]; clientId?: string }>;
    expandScopes(body: { scopes: string[] }): Promise<{ scopes: string[] }>;
    buildSignedUrl(method: unknown, ...args: unknown[]): string;
  }
  export class Queue {
    constructor(options: ClientOptions);
    ping(): Promise<{ alive: boolean }>;
    task(taskId: string): Promise<Record<string, unknown> & { scopes: string[] }>;
  }
  const taskcluster: {
    createTemporaryCredentials: typeof createTemporaryCredentials;
    Auth: typeof Auth;
    Queue: typeof Queue;
  };
  export default taskcluster;
}
