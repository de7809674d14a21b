// The two relay floors' common part (tcp-relay.mjs, head-signer.mjs): a loopback server that
// pairs each client connection with one of its own to the upstream, relays the upstream's bytes
// back unread, leaves the client's bytes to `toUpstream(client, up)`, closes both together, and
// prints {"msg": "listening", "port": N}.
import net from 'node:net';

export function serveRelay(upstream, toUpstream) {
  const server = net.createServer((client) => {
    const up = net.connect(Number(upstream.port), upstream.hostname);
    client.setNoDelay(true);
    up.setNoDelay(true);
    up.pipe(client);
    toUpstream(client, up);
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
}
