import { describe, expect, it } from 'vitest';
import { assertScopes } from './scopes.js';

describe('assertScopes', () => {
  it('passes with no requirement, exact scopes, or a star prefix', () => {
    expect(() => assertScopes([], [], 'x')).not.toThrow();
    expect(() => assertScopes(['docker-worker:cache:a'], [['docker-worker:cache:a']], 'cache')).not.toThrow();
    expect(() =>
      assertScopes(['docker-worker:cache:level-1-*'], [['docker-worker:cache:level-1-x']], 'cache'),
    ).not.toThrow();
  });

  it('names exactly the missing scope', () => {
    expect(() =>
      assertScopes(
        ['docker-worker:cache:a', 'docker-worker:cache:level-1-*'],
        [['docker-worker:cache:a', 'docker-worker:cache:level-3-x']],
        'cache',
      ),
    ).toThrow(
      "Insufficient scopes to use 'cache'. Try adding docker-worker:cache:level-3-x to the .scopes array of the task.",
    );
  });

  it('treats an inner star literally and resolves malformed-payload', () => {
    try {
      assertScopes(['a*b'], [['axb']], 'f');
      expect.unreachable();
    } catch (err) {
      expect(err).toMatchObject({ resolution: 'malformed-payload' });
    }
  });
});
