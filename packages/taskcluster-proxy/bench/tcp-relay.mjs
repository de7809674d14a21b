#!/usr/bin/env node
// The least any hop can be, below even a signing forwarder (P3's second floor): a TCP relay that
// pipes each client connection's bytes to a connection of its own to the upstream and back. No
// HTTP parsing, no signing (the client signs for the upstream and names it in Host), no logs.
// Usage: tcp-relay.mjs <upstream root URL>; prints {"msg": "listening", "port": N}.
import { serveRelay } from './relay.mjs';

serveRelay(new URL(process.argv[2]), (client, up) => client.pipe(up));
