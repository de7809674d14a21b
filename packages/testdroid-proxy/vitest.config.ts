import { defineProject } from 'vitest/config';

// Like ../../vitest.shared.ts, but without the 'import'/'module' conditions: vitest passes the
// conditions to Node as --conditions, and with 'import' a CommonJS require() of a dual package
// (express → router → is-promise) gets the ESM namespace object instead of the function.
const conditions = ['@docker-worker/source', 'node', 'default'];

export default defineProject({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: ['node'] } },
  test: { name: 'testdroid-proxy', include: ['src/**/*.test.ts'] },
});
