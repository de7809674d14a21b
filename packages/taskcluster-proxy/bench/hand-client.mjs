#!/usr/bin/env node
// P3's floor with the upstream side written by hand: the proxy's node:http server in (llhttp
// parses the task's requests, the response goes out through ServerResponse), the proxy's routing,
// signing, §4.4 headers and log line, and hand-http.mjs's client out instead of undici. Beside
// min-forwarder.mjs (undici out) it shows what the HTTP client costs. GETs only.
// Usage: hand-client.mjs <upstream root URL> <scope>... (credentials from TASKCLUSTER_CLIENT_ID /
// TASKCLUSTER_ACCESS_TOKEN); prints {"msg": "listening", "port": N}.
import http from 'node:http';
import { extraHeaders, forward, listening } from './hand-http.mjs';

listening(
  http.createServer((req, res) => {
    forward(req.method, req.url, req.headers, (status, statusText, headers, body, href) => {
      for (const name in extraHeaders) headers.push(name, extraHeaders[name]);
      headers.push('x-taskcluster-endpoint', href);
      res.writeHead(status, statusText, headers);
      for (const chunk of body) res.write(chunk);
      res.end();
    });
  }),
);
