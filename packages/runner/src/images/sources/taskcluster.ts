/**
 * @module images/sources/taskcluster
 * The two Taskcluster calls the artifact image sources make, with the run's credentials
 * restricted to the task's scopes (`authorizedScopes`), through taskcluster-client (loaded on first
 * use): the URL of a task's latest artifact (unsigned for `public/` names, as the last
 * docker-worker; signed otherwise), and the index's findTask. Clients are made with `retries: 0`:
 * the image sources retry themselves.
 */
import type { Credentials } from '../../features/feature.js';

export interface TaskclusterAuth {
  credentials?: Credentials;
  /** The task's scopes: what the calls may use, whatever the credentials hold. */
  scopes: string[];
}

interface Client {
  buildUrl(method: unknown, ...args: unknown[]): string;
  buildSignedUrl(method: unknown, ...args: unknown[]): string;
}
interface Module {
  Queue: new (options: Record<string, unknown>) => Client & { getLatestArtifact: unknown };
  Index: new (options: Record<string, unknown>) => {
    findTask(namespace: string): Promise<{ taskId: string }>;
  };
}

// A string, not a literal: the package has no types, and this module gives it ours.
const MODULE: string = 'taskcluster-client';
let loaded: Promise<Module> | undefined;
const tc = (): Promise<Module> =>
  (loaded ??= import(MODULE).then((m: { default?: Module } & Module) => m.default ?? m));

const options = (rootUrl: string, auth: TaskclusterAuth): Record<string, unknown> => ({
  rootUrl,
  retries: 0,
  ...(auth.credentials ? { credentials: auth.credentials, authorizedScopes: auth.scopes } : {}),
});

/** Where to GET `path` of the latest run of `taskId` (the queue answers 303 to the bytes). */
export async function artifactUrl(
  rootUrl: string,
  taskId: string,
  path: string,
  auth: TaskclusterAuth,
): Promise<string> {
  const { Queue } = await tc();
  const queue = new Queue(options(rootUrl, auth));
  const sign = auth.credentials && !/^\/?public\//.test(path);
  return sign
    ? queue.buildSignedUrl(queue.getLatestArtifact, taskId, path)
    : queue.buildUrl(queue.getLatestArtifact, taskId, path);
}

/** The task id indexed at `namespace`; taskcluster-client's error (with `statusCode`) otherwise. */
export async function findTask(rootUrl: string, namespace: string, auth: TaskclusterAuth): Promise<string> {
  const { Index } = await tc();
  return (await new Index(options(rootUrl, auth)).findTask(namespace)).taskId;
}
