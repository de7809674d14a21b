#!/usr/bin/env node
// The least a signing proxy can do, as the floor P3 is read against: node:http in, one Hawk
// header (authorizedScopes in ext), node:http out over a keep-alive agent, response piped back.
// No routing, no checks, no logs. Usage: min-forwarder.mjs <upstream root URL> <scope>...
// (credentials from TASKCLUSTER_CLIENT_ID / TASKCLUSTER_ACCESS_TOKEN); prints {"msg": "listening", "port": N}.
import http from 'node:http';
import hawk from 'hawk';

const [rootUrl, ...scopes] = process.argv.slice(2);
const upstream = new URL(rootUrl);
const credentials = {
  id: process.env.TASKCLUSTER_CLIENT_ID,
  key: process.env.TASKCLUSTER_ACCESS_TOKEN,
  algorithm: 'sha256',
};
const ext = Buffer.from(JSON.stringify({ authorizedScopes: scopes })).toString('base64');
const agent = new http.Agent({ keepAlive: true });
const server = http.createServer((req, res) => {
  // /<service>/v1/... → <rootUrl>/api/<service>/v1/...
  const path = `/api${req.url}`;
  const { header } = hawk.client.header(`${rootUrl}${path}`, req.method, { credentials, ext });
  const out = http.request(
    {
      host: upstream.hostname,
      port: upstream.port,
      path,
      method: req.method,
      headers: { authorization: header, host: upstream.host },
      agent,
    },
    (up) => {
      res.writeHead(up.statusCode, up.headers);
      up.pipe(res);
    },
  );
  out.on('error', () => res.destroy());
  req.pipe(out);
});
server.listen(0, '127.0.0.1', () =>
  console.log(JSON.stringify({ msg: 'listening', port: server.address().port })),
);
