// Shared Vite settings for every vitest project: resolve workspace packages to their TypeScript
// source (the "@docker-worker/source" export condition), so tests never need a dependency's dist.
//
// vitest hands the SSR conditions to its workers as `node --conditions`, which also applies to
// require(): 'import' or 'module' there would make CommonJS packages (express's router requiring
// is-promise) load ESM builds and break. So only conditions Node does not set by itself.
const conditions = ['@docker-worker/source', 'node', 'default'];

export const sourceConditions = {
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: ['node'] } },
};
