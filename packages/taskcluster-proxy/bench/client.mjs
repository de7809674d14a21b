#!/usr/bin/env node
// The P3 client, a process of its own (forked by proxy.bench.mjs, which then holds only the fake
// Taskcluster): in one process with the upstream, the client's and the upstream's work shared one
// core, and a side's throughput was that process's, not the machine's.
// On each IPC message {port, path, signUrl?, n, ms} it makes up to n GETs of `path` on 127.0.0.1:port,
// CONCURRENCY at a time, within ms; with signUrl each carries a Hawk header for that URL (the
// worker's credentials, the task's scopes in ext), as a client calling Taskcluster directly does;
// with hostHeader, that Host (a relay's client names the upstream it signed for).
// It answers {done, seconds}.
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import hawk from 'hawk';

const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY);
const credentials = {
  id: process.env.TASKCLUSTER_CLIENT_ID,
  key: process.env.TASKCLUSTER_ACCESS_TOKEN,
  algorithm: 'sha256',
};
const ext = Buffer.from(process.env.BENCH_SCOPES_JSON).toString('base64');
const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });

function request(port, path, headers) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, headers, agent }, (res) => {
      res.resume();
      res.on('end', () =>
        res.statusCode === 200 ? resolve() : reject(new Error(`${path}: ${res.statusCode}`)),
      );
    });
    req.on('error', reject);
  });
}

process.on('message', async ({ port, path, signUrl, hostHeader, n, ms }) => {
  const host = hostHeader ? { host: hostHeader } : {};
  const headers = () =>
    signUrl
      ? { ...host, authorization: hawk.client.header(signUrl, 'GET', { credentials, ext }).header }
      : host;
  const deadline = performance.now() + ms;
  const started = performance.now();
  let done = 0;
  const worker = async () => {
    while (done < n && performance.now() < deadline) {
      done += 1;
      await request(port, path, headers());
    }
  };
  try {
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    process.send({ done, seconds: (performance.now() - started) / 1000 });
  } catch (err) {
    process.send({ error: err.message });
  }
});
