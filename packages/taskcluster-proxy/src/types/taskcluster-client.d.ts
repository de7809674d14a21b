// The parts of taskcluster-client 87 the proxy uses (it ships no types): Queue.task for --task-id,
// Auth and createTemporaryCredentials in the tests.
declare module 'taskcluster-client' {
  export interface Credentials {
    clientId: string;
    accessToken: string;
    certificate?: string | Record<string, unknown>;
  }
  export function createTemporaryCredentials(options: {
    credentials: Credentials;
    scopes: string[];
    expiry: Date;
    clientId?: string;
  }): Required<Credentials> & {
    certificate: string;
  };
  export class Auth {
    constructor(options: { rootUrl: string; credentials?: Credentials; retries?: number });
    currentScopes(): Promise<{ scopes: string[] }>;
  }
  export class Queue {
    constructor(options: { rootUrl: string; credentials?: Credentials; retries?: number });
    task(taskId: string): Promise<{ scopes?: unknown }>;
  }
  const taskcluster: {
    createTemporaryCredentials: typeof createTemporaryCredentials;
    Auth: typeof Auth;
    Queue: typeof Queue;
  };
  export default taskcluster;
}
