// What P3's two hand-written floors share (hand-client.mjs, hand-proxy.mjs): the proxy's own
// routing, signing and §4.4 headers (from dist), its request log line, and an HTTP/1.1 client to
// the upstream written by hand: keep-alive connections in a free list, the request head written in
// one call, the response head parsed by hand, Content-Length framing only (enough for the bench's
// upstream; no chunked bodies, no retries, no timeouts, no errors handled). A bench floor, not a proxy.
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { pino } from 'pino';
import { HOP_BY_HOP } from '../dist/forward.js';
import { proxyHeaders } from '../dist/proxy-headers.js';
import { mapRequest } from '../dist/routing.js';
import { authorizationHeader } from '../dist/signing.js';

export const [rootUrl, ...scopes] = process.argv.slice(2);
const creds = {
  clientId: process.env.TASKCLUSTER_CLIENT_ID,
  accessToken: process.env.TASKCLUSTER_ACCESS_TOKEN,
};
/** The §4.4 headers, as the proxy adds them to each response. */
export const extraHeaders = proxyHeaders({ version: 'bench', revision: 'bench' }, creds, scopes);
// One line per request, written at once, as the proxy's CLI does.
const log = pino(pino.destination({ dest: 1, sync: true })).child({}, { redact: [] });
const idle = [];
function connection(target) {
  const reused = idle.pop();
  if (reused) return reused;
  const socket = net.connect(target.port, target.hostname);
  socket.setNoDelay(true);
  return socket;
}

/**
 * Forwards one bodiless request (`headers`: lower-case names) to where the proxy would send it;
 * calls `respond(status, statusText, headers, body, href)` with the response's flat header list
 * (hop-by-hop ones dropped) and its body in chunks, and logs the proxy's request line.
 */
export function forward(method, rawTarget, headers, respond) {
  const started = performance.now();
  const { target } = mapRequest(rawTarget, rootUrl);
  const up = connection(target);
  let pending = null;
  let head = null;
  let status = 0;
  let statusText = '';
  let remaining = 0;
  const body = [];
  const onData = (chunk) => {
    if (head === null) {
      pending = pending ? Buffer.concat([pending, chunk]) : chunk;
      const end = pending.indexOf('\r\n\r\n');
      if (end < 0) return;
      const lines = pending.toString('latin1', 0, end).split('\r\n');
      status = Number(lines[0].slice(9, 12));
      statusText = lines[0].slice(13);
      head = [];
      for (let i = 1; i < lines.length; i++) {
        const colon = lines[i].indexOf(':');
        const name = lines[i].slice(0, colon).toLowerCase();
        const value = lines[i].slice(colon + 1).trim();
        if (name === 'content-length') remaining = Number(value);
        if (!HOP_BY_HOP.has(name)) head.push(name, value);
      }
      chunk = pending.subarray(end + 4);
      pending = null;
    }
    if (chunk.length > 0) {
      remaining -= chunk.length;
      body.push(chunk);
    }
    if (remaining > 0) return;
    up.off('data', onData);
    idle.push(up);
    log.info(
      { method, target: target.href, status, ms: Math.round(performance.now() - started), attempts: 1 },
      'proxied',
    );
    respond(status, statusText, head, body, target.href);
  };
  up.on('data', onData);
  const query = target.query === undefined ? '' : `?${target.query}`;
  let out = `${method} ${target.path}${query} HTTP/1.1\r\nhost: ${target.host}\r\nauthorization: ${authorizationHeader(target, method, creds, scopes)}\r\n`;
  for (const name in headers)
    if (!HOP_BY_HOP.has(name) && name !== 'host' && name !== 'authorization')
      out += `${name}: ${headers[name]}\r\n`;
  up.write(`${out}\r\n`);
}

export function listening(server) {
  server.listen(0, '127.0.0.1', () =>
    process.stdout.write(`${JSON.stringify({ msg: 'listening', port: server.address().port })}\n`),
  );
  process.on('SIGTERM', () => process.exit(0));
}
