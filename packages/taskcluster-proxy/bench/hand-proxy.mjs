#!/usr/bin/env node
// P3's floor with HTTP written by hand both ways: what a proxy with the proxy's routing, signing,
// §4.4 headers and log line could reach with no HTTP library at all. Request heads are read by
// hand (request line and header lines split, no validation beyond the HTTP version: bodiless
// requests only), the upstream client is hand-http.mjs's, responses are written back in request
// order (pipelining kept) with one write each. A bench floor, not a proxy.
// Usage: hand-proxy.mjs <upstream root URL> <scope>...; prints {"msg": "listening", "port": N}.
import net from 'node:net';
import { extraHeaders, forward, listening } from './hand-http.mjs';

let extra = '';
for (const name in extraHeaders) extra += `${name}: ${extraHeaders[name]}\r\n`;

listening(
  net.createServer((socket) => {
    socket.setNoDelay(true);
    let pending = null;
    // Responses leave in the order their requests came.
    let previous = Promise.resolve();
    socket.on('error', () => socket.destroy());
    socket.on('data', (chunk) => {
      pending = pending ? Buffer.concat([pending, chunk]) : chunk;
      for (let end = pending.indexOf('\r\n\r\n'); end >= 0; end = pending.indexOf('\r\n\r\n')) {
        const lines = pending.toString('latin1', 0, end).split('\r\n');
        pending = pending.subarray(end + 4);
        const [method, rawTarget, version] = lines[0].split(' ');
        if (version !== 'HTTP/1.1') return void socket.destroy();
        const headers = {};
        for (let i = 1; i < lines.length; i++) {
          const colon = lines[i].indexOf(':');
          headers[lines[i].slice(0, colon).toLowerCase()] = lines[i].slice(colon + 1).trim();
        }
        const response = new Promise((resolve) =>
          forward(method, rawTarget, headers, (status, statusText, head, body, href) => {
            let out = `HTTP/1.1 ${status} ${statusText}\r\n`;
            for (let i = 0; i < head.length; i += 2) out += `${head[i]}: ${head[i + 1]}\r\n`;
            resolve(
              Buffer.concat([
                Buffer.from(`${out}${extra}x-taskcluster-endpoint: ${href}\r\n\r\n`, 'latin1'),
                ...body,
              ]),
            );
          }),
        );
        const before = previous;
        previous = before.then(() => response).then((bytes) => void socket.write(bytes));
      }
    });
  }),
);
