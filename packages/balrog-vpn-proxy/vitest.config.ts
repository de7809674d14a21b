import { defineProject } from 'vitest/config';

// Like ../../vitest.shared.ts but without the 'import'/'module' conditions: vitest hands the
// conditions to Node as --conditions, and with 'import' Node's require() of a dual package
// (is-promise, used by express's router) returns the ESM namespace instead of the function.
const conditions = ['@docker-worker/source', 'node', 'default'];

export default defineProject({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: ['node'] } },
  test: { name: 'balrog-vpn-proxy', include: ['src/**/*.test.ts'] },
});
