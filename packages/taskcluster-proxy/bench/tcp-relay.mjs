#!/usr/bin/env node
// The least any hop can be, below even a signing forwarder (P3's second floor): a TCP relay that
// pipes each client connection's bytes to a connection of its own to the upstream and back. No
// HTTP parsing, no signing (the client signs for the upstream and names it in Host), no logs.
// Usage: tcp-relay.mjs <upstream root URL>; prints {"msg": "listening", "port": N}.
import net from 'node:net';

const upstream = new URL(process.argv[2]);
const server = net.createServer((client) => {
  const up = net.connect(Number(upstream.port), upstream.hostname);
  client.setNoDelay(true);
  up.setNoDelay(true);
  client.pipe(up).pipe(client);
  const close = () => {
    client.destroy();
    up.destroy();
  };
  client.on('error', close).on('close', close);
  up.on('error', close).on('close', close);
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ msg: 'listening', port: server.address().port })}\n`);
});
process.on('SIGTERM', () => process.exit(0));
