// Shared Vite settings for every vitest project: resolve workspace packages to their TypeScript
// source (the "@docker-worker/source" export condition), so tests never need a dependency's dist.
const conditions = ['@docker-worker/source', 'node', 'import', 'module', 'default'];

export const sourceConditions = {
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: ['node'] } },
};
