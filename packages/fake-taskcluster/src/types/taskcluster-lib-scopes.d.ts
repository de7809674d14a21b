// The parts of taskcluster-lib-scopes 11 this package uses (it ships no types).
declare module 'taskcluster-lib-scopes' {
  export type ScopeExpression = string | { AllOf: ScopeExpression[] } | { AnyOf: ScopeExpression[] };
  export function validScope(scope: unknown): boolean;
  export function validExpression(expr: unknown): boolean;
  export function satisfiesExpression(scopeset: string[], expression: ScopeExpression): boolean;
  export function removeGivenScopes(scopeset: string[], expression: ScopeExpression): ScopeExpression | null;
  export function scopeUnion(a: string[], b: string[]): string[];
  export function scopeIntersection(a: string[], b: string[]): string[];
  export function patternMatch(pattern: string, scope: string): boolean;
  export function normalizeScopeSet(scopes: string[]): string[];
}
