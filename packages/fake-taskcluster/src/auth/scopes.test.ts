import { describe, expect, it } from 'vitest';
import { expandScopes, normalizeScopes } from './scopes.js';

describe('expandScopes', () => {
  const roles = [
    { roleId: 'project:a', scopes: ['secrets:get:a', 'assume:project:b'] },
    { roleId: 'project:b', scopes: ['secrets:get:b'] },
    { roleId: 'repo:gh/*', scopes: ['index:insert:<..>/*'] },
    { roleId: 'xyz', scopes: ['never'] },
  ];

  it('expands assume: scopes recursively and keeps the input', () => {
    expect(expandScopes(['assume:project:a'], roles)).toEqual([
      'assume:project:a',
      'assume:project:b',
      'secrets:get:a',
      'secrets:get:b',
    ]);
  });

  it('applies star roles to every matching id, substituting <..>', () => {
    expect(expandScopes(['assume:repo:gh/me/x'], roles)).toEqual([
      'assume:repo:gh/me/x',
      'index:insert:me/x/*',
    ]);
  });

  it('gives a held star scope every role it covers', () => {
    expect(expandScopes(['assume:project:*'], roles)).toEqual([
      'assume:project:*',
      'secrets:get:a',
      'secrets:get:b',
    ]);
    expect(expandScopes(['nothing:to:expand'], roles)).toEqual(['nothing:to:expand']);
  });

  it('normalises: sorted, duplicates and covered scopes removed', () => {
    expect(normalizeScopes(['b', 'a:x', 'a:*', 'b'])).toEqual(['a:*', 'b']);
  });
});
