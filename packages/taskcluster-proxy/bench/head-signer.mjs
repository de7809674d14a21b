#!/usr/bin/env node
// The least a *signing* hop can be (P3's third floor): a TCP relay that reads each request's head
// itself (no HTTP library), rewrites its path to the upstream's, adds one Hawk header and relays
// everything else as bytes; the upstream's responses go back unread (one upstream connection per
// client connection, so they stay in order). Bodiless requests only (GET, HEAD): a bench floor,
// not a proxy (no framing of bodies, no retries, no checks, no logs).
// Usage: head-signer.mjs <upstream root URL> <scope>... (credentials from TASKCLUSTER_CLIENT_ID /
// TASKCLUSTER_ACCESS_TOKEN); prints {"msg": "listening", "port": N}.
import hawk from 'hawk';
import { serveRelay } from './relay.mjs';

const [rootUrl, ...scopes] = process.argv.slice(2);
const upstream = new URL(rootUrl);
const credentials = {
  id: process.env.TASKCLUSTER_CLIENT_ID,
  key: process.env.TASKCLUSTER_ACCESS_TOKEN,
  algorithm: 'sha256',
};
const ext = Buffer.from(JSON.stringify({ authorizedScopes: scopes })).toString('base64');
serveRelay(upstream, (client, up) => {
  let pending = '';
  client.on('data', (chunk) => {
    pending += chunk.toString('latin1');
    for (let end = pending.indexOf('\r\n\r\n'); end >= 0; end = pending.indexOf('\r\n\r\n')) {
      const head = pending.slice(0, end);
      pending = pending.slice(end + 4);
      const lineEnd = head.indexOf('\r\n');
      const [method, target] = head.slice(0, lineEnd).split(' ');
      const path = `/api${target}`;
      const auth = hawk.client.header(`${rootUrl}${path}`, method, { credentials, ext }).header;
      // The client's headers, but Host, which names the upstream now.
      const headers = head
        .slice(lineEnd + 2)
        .split('\r\n')
        .filter((h) => !/^host:/i.test(h));
      up.write(
        `${method} ${path} HTTP/1.1\r\nhost: ${upstream.host}\r\nauthorization: ${auth}\r\n${headers.join('\r\n')}\r\n\r\n`,
      );
    }
  });
});
