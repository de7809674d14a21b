import { defineConfig } from 'vitest/config';

// `npm test` runs every project at once: each package's unit tests and the e2e suite.
export default defineConfig({
  test: {
    projects: ['packages/*', 'e2e'],
  },
});
