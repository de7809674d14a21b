/**
 * @module routes/context
 * What every route module receives from `createApp`.
 */
import type { Endpoint } from '../auth/require-scopes.js';
import type { ClientStore } from '../clients.js';

export interface RouteContext {
  endpoint: Endpoint;
  store: ClientStore;
  now: () => number;
}
