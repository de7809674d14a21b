// The parts of taskcluster-lib-scopes (no bundled types) that the runner uses.
declare module 'taskcluster-lib-scopes' {
  export type ScopeExpression = string | { AllOf: ScopeExpression[] } | { AnyOf: ScopeExpression[] };
  export function satisfiesExpression(scopeset: string[], expression: ScopeExpression): boolean;
  export function removeGivenScopes(scopeset: string[], expression: ScopeExpression): ScopeExpression | null;
  export function validScope(scope: string): boolean;
}
