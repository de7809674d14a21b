import { defineProject } from 'vitest/config';
import { sourceConditions } from '../vitest.shared.js';

export default defineProject({
  ...sourceConditions,
  test: {
    name: 'e2e',
    include: ['src/**/*.test.ts'],
    testTimeout: 180_000,
    hookTimeout: 180_000,
    globalSetup: ['src/global-setup.ts'],
    // e2e files share one engine and 2 cores: run them one file at a time.
    fileParallelism: false,
    // ...and only after every unit-test project has finished.
    sequence: { groupOrder: 1 },
  },
});
