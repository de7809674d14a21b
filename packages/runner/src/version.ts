/**
 * @module version
 * The runner's version, from its package.json (published with the package; `../package.json` from
 * dist/ and from the CLI bundle's chunks, which live in dist/ too).
 */
import { createRequire } from 'node:module';

export const VERSION: string = (createRequire(import.meta.url)('../package.json') as { version: string })
  .version;
