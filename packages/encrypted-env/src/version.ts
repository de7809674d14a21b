/**
 * @module version
 * The package version, from package.json: tsc keeps the import (dist/version.js reads
 * ../package.json, which is published with the package) and esbuild inlines it into the image bundle.
 */
import pkg from '../package.json' with { type: 'json' };

export const VERSION: string = pkg.version;
