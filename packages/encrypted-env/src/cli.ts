#!/usr/bin/env node
/**
 * @module cli
 * The `encrypted-env` executable: wires the real process to `main()`.
 */
import { main } from './cli-main.js';
import { processIo } from './cli-io.js';

process.exitCode = await main(process.argv.slice(2), processIo());
