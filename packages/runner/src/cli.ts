#!/usr/bin/env node
/**
 * @module cli
 * The `docker-worker` command's entry. A `run` as root fences its task with iptables: the host
 * firewall's probe (an iptables process, ~9 ms) is started here, before the rest of the CLI
 * (`cli-main.ts`, ~40 ms of modules) loads, and goes on beside that loading. The rest is there.
 */
import { probedFirewall } from './docker/host-firewall.js';

const argv = process.argv.slice(2);
const early = argv[0] === 'run' && process.getuid?.() === 0 ? { firewall: probedFirewall() } : {};
const { main } = await import('./cli-main.js');
process.exitCode = await main(argv, early);
