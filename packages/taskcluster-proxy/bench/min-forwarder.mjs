#!/usr/bin/env node
// The least a signing proxy can do, as the floor P3 is read against: node:http in, one Hawk
// header (authorizedScopes in ext), out with undici's dispatcher over keep-alive connections (the
// cheapest client measured: ~30 % less CPU per GET than node:http's), the response written back.
// No routing, no checks, no logs, no back-pressure. Usage: min-forwarder.mjs <upstream root URL> <scope>...
// (credentials from TASKCLUSTER_CLIENT_ID / TASKCLUSTER_ACCESS_TOKEN); prints {"msg": "listening", "port": N}.
import http from 'node:http';
import hawk from 'hawk';
import { Agent } from 'undici';

const [rootUrl, ...scopes] = process.argv.slice(2);
const upstream = new URL(rootUrl);
const credentials = {
  id: process.env.TASKCLUSTER_CLIENT_ID,
  key: process.env.TASKCLUSTER_ACCESS_TOKEN,
  algorithm: 'sha256',
};
const ext = Buffer.from(JSON.stringify({ authorizedScopes: scopes })).toString('base64');
const dispatcher = new Agent();
const server = http.createServer((req, res) => {
  // /<service>/v1/... → <rootUrl>/api/<service>/v1/...
  const path = `/api${req.url}`;
  const { header } = hawk.client.header(`${rootUrl}${path}`, req.method, { credentials, ext });
  dispatcher.dispatch(
    {
      origin: upstream.origin,
      path,
      method: req.method,
      headers: { authorization: header, host: upstream.host },
      body: req.method === 'GET' || req.method === 'HEAD' ? null : req,
    },
    {
      onRequestStart: () => {},
      onResponseStart: (_c, status, headers) => {
        delete headers.connection;
        delete headers['keep-alive'];
        delete headers['transfer-encoding'];
        res.writeHead(status, headers);
      },
      onResponseData: (_c, chunk) => res.write(chunk),
      onResponseEnd: () => res.end(),
      onResponseError: () => res.destroy(),
    },
  );
});
server.listen(0, '127.0.0.1', () =>
  console.log(JSON.stringify({ msg: 'listening', port: server.address().port })),
);
