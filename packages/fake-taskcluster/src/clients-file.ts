/**
 * @module clients-file
 * Reads the CLI's `--clients-file`: either an array of clients or `{clients: [...], roles: [...]}`.
 * A client is `{clientId, accessToken, scopes, expires?: ISO date, disabled?}`; `tasks` (optional) is
 * `{[taskId]: task definition}` for `queue.task`.
 */
import { readFileSync } from 'node:fs';
import type { ClientSpec } from './clients.js';
import type { RoleSpec } from './auth/scopes.js';
import type { TaskDefinition } from './tasks.js';
import { allValidScopes } from './auth/scopes.js';

export class ClientsFileError extends Error {}

function bad(file: string, what: string): never {
  throw new ClientsFileError(
    `${file}: ${what}; expected [{"clientId": "...", "accessToken": "...", "scopes": ["..."]}] or {"clients": [...], "roles": [{"roleId": "...", "scopes": [...]}]}`,
  );
}

export function readClientsFile(file: string): {
  clients: ClientSpec[];
  roles: RoleSpec[];
  tasks: Record<string, TaskDefinition>;
} {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    return bad(file, `cannot read JSON (${(err as Error).message})`);
  }
  const doc = (Array.isArray(parsed) ? { clients: parsed } : parsed) as {
    clients?: unknown;
    roles?: unknown;
    tasks?: unknown;
  };
  if (typeof doc !== 'object' || doc === null || !Array.isArray(doc.clients))
    return bad(file, 'no "clients" array');
  const clients = doc.clients.map((c: unknown, i: number): ClientSpec => {
    const o = c as Record<string, unknown>;
    if (typeof o?.clientId !== 'string' || typeof o.accessToken !== 'string' || !allValidScopes(o.scopes)) {
      return bad(file, `clients[${i}] needs clientId, accessToken (strings) and scopes (array of scopes)`);
    }
    const expires = o.expires === undefined ? undefined : new Date(String(o.expires));
    if (expires && Number.isNaN(expires.getTime())) return bad(file, `clients[${i}].expires is not a date`);
    return {
      clientId: o.clientId,
      accessToken: o.accessToken,
      scopes: o.scopes,
      ...(expires ? { expires } : {}),
      disabled: o.disabled === true,
    };
  });
  const rolesRaw = doc.roles ?? [];
  if (!Array.isArray(rolesRaw)) return bad(file, '"roles" must be an array');
  const roles = rolesRaw.map((r: unknown, i: number): RoleSpec => {
    const o = r as Record<string, unknown>;
    if (typeof o?.roleId !== 'string' || !allValidScopes(o.scopes))
      return bad(file, `roles[${i}] needs roleId and scopes`);
    return { roleId: o.roleId, scopes: o.scopes };
  });
  const tasks = doc.tasks ?? {};
  if (
    typeof tasks !== 'object' ||
    tasks === null ||
    Array.isArray(tasks) ||
    !Object.values(tasks).every((t) => typeof t === 'object' && t !== null && !Array.isArray(t))
  ) {
    return bad(file, '"tasks" must be an object {taskId: task definition}');
  }
  return { clients, roles, tasks: tasks as Record<string, TaskDefinition> };
}
