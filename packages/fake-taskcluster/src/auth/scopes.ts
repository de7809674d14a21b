/**
 * @module auth/scopes
 * Role expansion (PROTOCOLS.md §2.3) and normalisation of scope sets. Satisfaction itself is
 * taskcluster-lib-scopes; only the auth service expands roles, so only this module does.
 */
import { patternMatch, scopeUnion, validScope } from 'taskcluster-lib-scopes';

export interface RoleSpec {
  roleId: string;
  scopes: string[];
}

const ASSUME = 'assume:';

/** The scopes a role grants to one held scope, or none when the role does not apply. */
function grantedBy(held: string, role: RoleSpec): string[] {
  const assumed = ASSUME + role.roleId;
  if (patternMatch(held, assumed)) return role.scopes;
  if (role.roleId.endsWith('*')) {
    const prefix = assumed.slice(0, -1);
    if (held.startsWith(prefix)) {
      const param = held.slice(prefix.length);
      return role.scopes.map((s) => s.replaceAll('<..>', param));
    }
  }
  return [];
}

/** Sorted, de-duplicated, with scopes covered by a star scope removed (lib-scopes' normal form). */
export function normalizeScopes(scopes: readonly string[]): string[] {
  return scopeUnion([], [...scopes]);
}

/** Recursively adds the scopes of every role an `assume:` scope (or a star) reaches. */
export function expandScopes(scopes: readonly string[], roles: readonly RoleSpec[]): string[] {
  const seen = new Set(scopes);
  const queue = [...scopes];
  while (queue.length > 0) {
    const held = queue.pop() as string;
    if (!held.startsWith(ASSUME) && !(held.endsWith('*') && ASSUME.startsWith(held.slice(0, -1)))) continue;
    for (const role of roles) {
      for (const granted of grantedBy(held, role)) {
        if (!seen.has(granted)) {
          seen.add(granted);
          queue.push(granted);
        }
      }
    }
  }
  return normalizeScopes([...seen]);
}

export function allValidScopes(scopes: unknown): scopes is string[] {
  return Array.isArray(scopes) && scopes.every((s) => validScope(s));
}
