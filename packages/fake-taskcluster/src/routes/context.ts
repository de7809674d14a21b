/**
 * @module routes/context
 * What every route module receives from `createApp`: the services (`services.ts`, all but the
 * fault switch, which wraps the app instead) plus the authenticator and the request options.
 */
import type { Endpoint } from '../auth/require-scopes.js';
import type { ClientStore } from '../clients.js';
import type { Services } from '../services.js';
import type { TaskStore } from '../tasks.js';

export interface RouteContext extends Omit<Services, 'faults'> {
  endpoint: Endpoint;
  store: ClientStore;
  tasks: TaskStore;
  now: () => number;
  /** Treat `queue:get-artifact:public/*` as held by everyone (a deployment's anonymous role). */
  publicArtifacts: boolean;
  claimWorkWaitMs: number;
}
