/**
 * @module routes/context
 * What every route module receives from `createApp`.
 */
import type { Endpoint } from '../auth/require-scopes.js';
import type { ClientStore } from '../clients.js';
import type { TaskStore } from '../tasks.js';

export interface RouteContext {
  endpoint: Endpoint;
  store: ClientStore;
  tasks: TaskStore;
  now: () => number;
}
