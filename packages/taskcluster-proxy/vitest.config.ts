import { defineProject } from 'vitest/config';
import { sourceConditions } from '../../vitest.shared.js';

// vitest passes ssr.resolve.conditions to the worker as `node --conditions`, which also applies to
// require(): with 'import' there, express's router gets is-promise's ESM build and breaks. Keep only
// conditions that Node does not set by itself.
const nodeConditions = ['@docker-worker/source', 'node', 'default'];

export default defineProject({
  ...sourceConditions,
  ssr: { resolve: { conditions: nodeConditions, externalConditions: ['node'] } },
  test: { name: 'taskcluster-proxy', include: ['src/**/*.test.ts'] },
});
