/**
 * @module clients
 * The configured clients and roles. Mutable so that later parts (queue, tests) can add clients.
 */
import type { RoleSpec } from './auth/scopes.js';
import { expandScopes } from './auth/scopes.js';

export interface ClientSpec {
  clientId: string;
  accessToken: string;
  scopes: string[];
  expires?: Date;
  disabled?: boolean;
}

export class ClientStore {
  private readonly clients = new Map<string, ClientSpec>();
  private readonly roles: RoleSpec[] = [];

  constructor(clients: readonly ClientSpec[] = [], roles: readonly RoleSpec[] = []) {
    for (const c of clients) this.addClient(c);
    for (const r of roles) this.addRole(r);
  }

  addClient(client: ClientSpec): void {
    this.clients.set(client.clientId, { ...client, scopes: [...client.scopes] });
  }

  addRole(role: RoleSpec): void {
    const i = this.roles.findIndex((r) => r.roleId === role.roleId);
    if (i >= 0) this.roles.splice(i, 1);
    this.roles.push({ roleId: role.roleId, scopes: [...role.scopes] });
  }

  client(clientId: string): ClientSpec | undefined {
    return this.clients.get(clientId);
  }

  expand(scopes: readonly string[]): string[] {
    return expandScopes(scopes, this.roles);
  }
}
