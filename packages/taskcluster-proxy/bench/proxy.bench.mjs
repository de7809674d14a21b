#!/usr/bin/env node
// Benchmark of the taskcluster-proxy (built dist/cli.js, run as its own process) against
// fake-taskcluster (built dist, in this process), loopback only, bounded in count and time; the
// client of the small GETs is a process of its own (bench/client.mjs):
//   1. small authenticated GETs: through the proxy vs a client signing its own requests directly
//      (same run, same upstream, same client and agent, concurrency 8, each side warmed up, the
//      sides interleaved in rounds) — reported as a throughput ratio, with a minimal signing
//      forwarder as the floor, a TCP relay (no HTTP, the client signing) as the floor of any hop,
//      a signing relay that reads request heads by hand as the floor of a signing hop, the proxy's
//      routing and signing over HTTP written by hand (upstream side only, and both ways), and the
//      CPU per request of each hop's process;
//   2. the proxy process's peak RSS growth (from /proc) during a 1 GiB streamed PUT and GET.
// Last stdout line: BENCH_JSON {...}.
import { fork, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import http from 'node:http';
import { pipeline } from 'node:stream/promises';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { blobStream, startFakeTaskcluster } from '@docker-worker/fake-taskcluster';

const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const WORKER = {
  clientId: 'bench',
  accessToken: 'bench-token-0123456789abcdef',
  scopes: ['auth:current-scopes', 'queue:*'],
};
const SCOPES = ['auth:current-scopes', 'queue:get-task:x'];
const REQUESTS = 6000; // per side, in ROUNDS rounds
const ROUNDS = 6;
const WARMUP = 1000; // per side
const CONCURRENCY = 8; // issue #14, P3
const TIME_LIMIT_MS = 30_000;
const GiB = 2 ** 30;
const MiB = 2 ** 20;
const cores = availableParallelism();

const tc = await startFakeTaskcluster({ clients: [WORKER] });
/**
 * A signing process of its own with the worker's credentials; resolves with it and its port, read
 * from its `"listening"` line (the proxy logs one line per request: the rest are discarded).
 */
async function startSigner(name, args) {
  const proc = spawn(process.execPath, args, {
    env: {
      PATH: process.env.PATH,
      TASKCLUSTER_CLIENT_ID: WORKER.clientId,
      TASKCLUSTER_ACCESS_TOKEN: WORKER.accessToken,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise((resolve, reject) => {
    let buf = '';
    proc.once('exit', (code) => reject(new Error(`${name} exited ${code}`)));
    proc.stdout.on('data', (c) => {
      if (buf === null) return;
      buf += c.toString();
      const line = buf.split('\n').find((l) => l.includes('"listening"'));
      if (line) {
        buf = null;
        resolve(JSON.parse(line).port);
      }
    });
  });
  return { proc, port };
}
const { proc: proxyProc, port: proxyPort } = await startSigner('proxy', [
  CLI,
  '--port',
  '0',
  '--ip-address',
  '127.0.0.1',
  '--root-url',
  tc.rootUrl,
  ...SCOPES,
]);

// The client of the small GETs, in a process of its own (see client.mjs).
const client = fork(fileURLToPath(new URL('./client.mjs', import.meta.url)), [], {
  env: {
    PATH: process.env.PATH,
    TASKCLUSTER_CLIENT_ID: WORKER.clientId,
    TASKCLUSTER_ACCESS_TOKEN: WORKER.accessToken,
    BENCH_CONCURRENCY: String(CONCURRENCY),
    BENCH_SCOPES_JSON: JSON.stringify({ authorizedScopes: SCOPES }),
  },
  stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
});
/** Up to `n` GETs of a side by the client before `deadline`; resolves with how many were made. */
function run(side, n, deadline) {
  return new Promise((resolve, reject) => {
    client.once('message', (m) => (m.error ? reject(new Error(m.error)) : resolve(m.done)));
    client.send({ ...side.target, n, ms: Math.max(0, Math.min(deadline - performance.now(), 2 ** 31 - 1)) });
  });
}

/** CPU time (user + system) a process has used so far, in seconds, from /proc. */
function cpuSeconds(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (100/s)
}

/**
 * The sides measured in ROUNDS interleaved rounds, the order rotated each round, so that a
 * machine whose load drifts (2 shared cores) or a JIT still warming favours none of them; each
 * side's throughput is its requests over its summed time. `pid`: the signer whose CPU per request
 * is reported too.
 */
/** The whole machine's busy and total CPU time so far, in seconds of one core, from /proc/stat. */
function machineSeconds() {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  // user … softirq (guest is inside user); steal, the hypervisor running someone else, is left out
  const total = f.slice(0, 7).reduce((a, b) => a + b, 0);
  return { busy: (total - f[3] - f[4]) / 100, total: total / 100 }; // idle, iowait
}

async function throughputs(sides) {
  const total = sides.map(() => ({ done: 0, seconds: 0, cpu: 0, client: 0, self: 0, busy: 0, all: 0 }));
  const deadline = performance.now() + TIME_LIMIT_MS;
  for (let round = 0; round < ROUNDS; round++) {
    for (let k = 0; k < sides.length; k++) {
      const i = (round + k) % sides.length;
      const { pid } = sides[i];
      const cpu = pid ? cpuSeconds(pid) : 0;
      const clientCpu = cpuSeconds(client.pid);
      const self = process.cpuUsage();
      const machine = machineSeconds();
      const started = performance.now();
      total[i].done += await run(sides[i], REQUESTS / ROUNDS, deadline);
      total[i].seconds += (performance.now() - started) / 1000;
      if (pid) total[i].cpu += cpuSeconds(pid) - cpu;
      total[i].client += cpuSeconds(client.pid) - clientCpu;
      const used = process.cpuUsage(self);
      total[i].self += (used.user + used.system) / 1e6;
      const after = machineSeconds();
      total[i].busy += after.busy - machine.busy;
      total[i].all += after.total - machine.total;
    }
  }
  return sides.map(({ name, pid }, i) => {
    const { done, seconds, cpu, client: clientS, self, busy, all } = total[i];
    const rps = done / seconds;
    const cpuUs = pid ? (cpu * 1e6) / done : undefined;
    // What one request costs the machine: the client, this process (the fake Taskcluster), the
    // signer, the kernel's loopback TCP; and how much of the machine was busy meanwhile.
    const clientUs = (clientS * 1e6) / done;
    const selfUs = (self * 1e6) / done;
    const machineUs = (busy * 1e6) / done;
    const coresBusy = (busy / all) * cores;
    console.log(
      `${name}: ${done} GETs in ${seconds.toFixed(2)} s = ${rps.toFixed(0)} req/s${cpuUs === undefined ? '' : `; ${cpuUs.toFixed(0)} µs of its CPU per request`}; client ${clientUs.toFixed(0)} µs, fake Taskcluster ${selfUs.toFixed(0)} µs; the machine ${machineUs.toFixed(0)} µs per request, ${coresBusy.toFixed(2)} of ${cores} cores busy`,
    );
    return { rps, cpuUs, clientUs, selfUs, machineUs, coresBusy };
  });
}

const directPath = '/api/fake/v1/whoami';
// The floor: the least a signing proxy can do (min-forwarder.mjs), its own process like ours.
const { proc: floorProc, port: floorPort } = await startSigner('min-forwarder', [
  fileURLToPath(new URL('./min-forwarder.mjs', import.meta.url)),
  tc.rootUrl,
  ...SCOPES,
]);
// The floor of any hop: bytes relayed, nothing parsed (tcp-relay.mjs); the client signs for the upstream.
const { proc: relayProc, port: relayPort } = await startSigner('tcp-relay', [
  fileURLToPath(new URL('./tcp-relay.mjs', import.meta.url)),
  tc.rootUrl,
]);
// The floor of a signing hop: request heads read and re-signed by hand, the rest relayed as bytes.
const { proc: headProc, port: headPort } = await startSigner('head-signer', [
  fileURLToPath(new URL('./head-signer.mjs', import.meta.url)),
  tc.rootUrl,
  ...SCOPES,
]);
// The proxy's own routing, signing and log with HTTP written by hand: the upstream side only
// (hand-client.mjs, behind node:http), and both sides (hand-proxy.mjs). What a proxy without the
// HTTP libraries could reach.
const { proc: handClientProc, port: handClientPort } = await startSigner('hand-client', [
  fileURLToPath(new URL('./hand-client.mjs', import.meta.url)),
  tc.rootUrl,
  ...SCOPES,
]);
const { proc: handProxyProc, port: handProxyPort } = await startSigner('hand-proxy', [
  fileURLToPath(new URL('./hand-proxy.mjs', import.meta.url)),
  tc.rootUrl,
  ...SCOPES,
]);
const sides = [
  {
    name: 'direct (client signs)',
    target: { port: tc.port, path: directPath, signUrl: `${tc.rootUrl}${directPath}` },
  },
  { name: 'through the proxy    ', target: { port: proxyPort, path: '/fake/v1/whoami' }, pid: proxyProc.pid },
  { name: 'minimal forwarder    ', target: { port: floorPort, path: '/fake/v1/whoami' }, pid: floorProc.pid },
  {
    name: 'TCP relay (no HTTP)  ',
    target: {
      port: relayPort,
      path: directPath,
      signUrl: `${tc.rootUrl}${directPath}`,
      hostHeader: new URL(tc.rootUrl).host,
    },
    pid: relayProc.pid,
  },
  { name: 'head-signing relay   ', target: { port: headPort, path: '/fake/v1/whoami' }, pid: headProc.pid },
  {
    name: 'hand-written client  ',
    target: { port: handClientPort, path: '/fake/v1/whoami' },
    pid: handClientProc.pid,
  },
  {
    name: 'hand-written both    ',
    target: { port: handProxyPort, path: '/fake/v1/whoami' },
    pid: handProxyProc.pid,
  },
];
// Warm-up: every side at the measured concurrency (the JIT of the client, the upstream and both signers).
for (const side of sides) await run(side, WARMUP, performance.now() + TIME_LIMIT_MS);
const [directSide, proxySide, floorSide, relaySide, headSide, handClientSide, handProxySide] =
  await throughputs(sides);
const { rps: direct } = directSide;
const { rps: proxied, cpuUs: proxyCpuUs } = proxySide;
const { rps: floor, cpuUs: floorCpuUs } = floorSide;
floorProc.kill();
relayProc.kill();
headProc.kill();
handClientProc.kill();
handProxyProc.kill();
const ratio = proxied / direct;
console.log(
  `small-GET throughput through the proxy = ${(ratio * 100).toFixed(0)} % of direct (ratio ${ratio.toFixed(2)})`,
);
console.log(
  `floor: a 30-line signing forwarder (bench/min-forwarder.mjs) reaches ${(floor / direct).toFixed(2)} of direct; the proxy ${(proxied / floor).toFixed(2)} of that floor`,
);
console.log(
  `floor of any hop: a TCP relay (bench/tcp-relay.mjs: bytes piped, nothing parsed or signed) reaches ${(relaySide.rps / direct).toFixed(2)} of direct, adding ${(relaySide.machineUs - directSide.machineUs).toFixed(0)} µs of machine CPU per GET (its process ${relaySide.cpuUs.toFixed(0)} µs)`,
);
console.log(
  `floor of a signing hop: request heads re-signed by hand, the rest relayed as bytes (bench/head-signer.mjs, GETs only) reaches ${(headSide.rps / direct).toFixed(2)} of direct, adding ${(headSide.machineUs - directSide.machineUs).toFixed(0)} µs per GET (its process ${headSide.cpuUs.toFixed(0)} µs)`,
);
console.log(
  `without the HTTP libraries: the proxy's routing, signing and log with a hand-written client to the upstream behind node:http (bench/hand-client.mjs) reach ${(handClientSide.rps / direct).toFixed(2)} of direct (its process ${handClientSide.cpuUs.toFixed(0)} µs per GET), with HTTP written by hand both ways (bench/hand-proxy.mjs) ${(handProxySide.rps / direct).toFixed(2)} (${handProxySide.cpuUs.toFixed(0)} µs)`,
);
// What a GET costs the whole machine (client, upstream, signer, the kernel's loopback TCP): with
// the client, the upstream and the hop sharing the 2 cores, a hop that adds more than a ninth of
// a direct GET's cost cannot reach 0.9 of direct; the 30-line forwarder shows what the least hop adds.
const cpuBound = directSide.machineUs / proxySide.machineUs;
const hopBudgetUs = directSide.machineUs / 9;
console.log(
  `CPU per GET, whole machine: direct ${directSide.machineUs.toFixed(0)} µs, through the proxy ${proxySide.machineUs.toFixed(0)} µs (the proxy process ${proxyCpuUs.toFixed(0)} µs of it), through the 30-line forwarder ${floorSide.machineUs.toFixed(0)} µs (its process ${floorCpuUs.toFixed(0)} µs); 0.9 of direct allows a hop to add ${hopBudgetUs.toFixed(0)} µs, the least forwarder adds ${(floorSide.machineUs - directSide.machineUs).toFixed(0)} µs, ours ${(proxySide.machineUs - directSide.machineUs).toFixed(0)} µs`,
);

const rss = () =>
  Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${proxyProc.pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;
const baseline = rss();
let peak = baseline;
const sampler = setInterval(() => (peak = Math.max(peak, rss())), 20);
const putStarted = performance.now();
await new Promise((resolve, reject) => {
  const req = http.request(
    {
      host: '127.0.0.1',
      port: proxyPort,
      path: '/fake/v1/blob',
      method: 'PUT',
      headers: { 'content-length': String(GiB) },
    },
    (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () =>
        res.statusCode === 200 && JSON.parse(body).bytes === GiB
          ? resolve()
          : reject(new Error(`PUT ${res.statusCode} ${body}`)),
      );
    },
  );
  req.on('error', reject);
  pipeline(blobStream(GiB), req).catch(reject);
});
clearInterval(sampler);
peak = Math.max(peak, rss());
const putSeconds = (performance.now() - putStarted) / 1000;
const putGrowth = peak - baseline;
console.log(
  `1 GiB PUT through the proxy: ${putSeconds.toFixed(1)} s (${(1024 / putSeconds).toFixed(0)} MiB/s); proxy RSS baseline ${(baseline / MiB).toFixed(1)} MiB, peak ${(peak / MiB).toFixed(1)} MiB (+${(putGrowth / MiB).toFixed(1)} MiB)`,
);

// 1 GiB GET: the body streamed from the upstream through the proxy to this process.
const getBaseline = rss();
let getPeak = getBaseline;
const getSampler = setInterval(() => (getPeak = Math.max(getPeak, rss())), 20);
const getStarted = performance.now();
await new Promise((resolve, reject) => {
  http
    .get({ host: '127.0.0.1', port: proxyPort, path: `/fake/v1/blob/${GiB}` }, (res) => {
      let bytes = 0;
      res.on('data', (c) => (bytes += c.length));
      res.on('end', () =>
        res.statusCode === 200 && bytes === GiB
          ? resolve()
          : reject(new Error(`GET ${res.statusCode} ${bytes} bytes`)),
      );
      res.on('error', reject);
    })
    .on('error', reject);
});
clearInterval(getSampler);
getPeak = Math.max(getPeak, rss());
const getSeconds = (performance.now() - getStarted) / 1000;
const getGrowth = getPeak - getBaseline;
console.log(
  `1 GiB GET through the proxy: ${getSeconds.toFixed(1)} s (${(1024 / getSeconds).toFixed(0)} MiB/s); proxy RSS growth +${(getGrowth / MiB).toFixed(1)} MiB (target P4: < 64 MiB each)`,
);

proxyProc.kill('SIGTERM');
client.kill();
await tc.close();
console.log(
  `BENCH_JSON ${JSON.stringify({
    rows: [
      {
        id: 'P3',
        measure: 'proxy small-GET throughput (concurrency 8) vs the same signed GETs direct',
        ratio: Number(ratio.toFixed(3)),
        target: 0.9,
        better: 'higher',
        met: ratio >= 0.9,
      },
      {
        id: 'P4',
        measure: '1 GiB PUT and GET through the proxy: peak RSS growth, MiB (larger of the two)',
        value: Number((Math.max(putGrowth, getGrowth) / MiB).toFixed(1)),
        target: 64,
        better: 'lower',
        met: Math.max(putGrowth, getGrowth) < 64 * MiB,
      },
    ],
    smallGetDirectRps: Math.round(direct),
    smallGetProxiedRps: Math.round(proxied),
    smallGetRatio: Number(ratio.toFixed(3)),
    smallGetFloorRps: Math.round(floor),
    smallGetRelayRps: Math.round(relaySide.rps),
    smallGetRelayRatio: Number((relaySide.rps / direct).toFixed(3)),
    smallGetFloorRatio: Number((floor / direct).toFixed(3)),
    smallGetOverFloor: Number((proxied / floor).toFixed(3)),
    proxyCpuUsPerGet: Math.round(proxyCpuUs),
    machineCpuUsPerGet: {
      direct: Math.round(directSide.machineUs),
      proxied: Math.round(proxySide.machineUs),
      floor: Math.round(floorSide.machineUs),
      relay: Math.round(relaySide.machineUs),
      headSigner: Math.round(headSide.machineUs),
    },
    clientCpuUsPerGet: {
      direct: Math.round(directSide.clientUs),
      proxied: Math.round(proxySide.clientUs),
      floor: Math.round(floorSide.clientUs),
      relay: Math.round(relaySide.clientUs),
      headSigner: Math.round(headSide.clientUs),
    },
    upstreamCpuUsPerGet: {
      direct: Math.round(directSide.selfUs),
      proxied: Math.round(proxySide.selfUs),
      floor: Math.round(floorSide.selfUs),
      relay: Math.round(relaySide.selfUs),
      headSigner: Math.round(headSide.selfUs),
    },
    coresBusy: {
      direct: Number(directSide.coresBusy.toFixed(2)),
      proxied: Number(proxySide.coresBusy.toFixed(2)),
      floor: Number(floorSide.coresBusy.toFixed(2)),
      relay: Number(relaySide.coresBusy.toFixed(2)),
      headSigner: Number(headSide.coresBusy.toFixed(2)),
    },
    cpuBoundRatio: Number(cpuBound.toFixed(3)),
    floorCpuUsPerGet: Math.round(floorCpuUs),
    relayCpuUsPerGet: Math.round(relaySide.cpuUs),
    headSignerCpuUsPerGet: Math.round(headSide.cpuUs),
    smallGetHeadSignerRatio: Number((headSide.rps / direct).toFixed(3)),
    smallGetHandClientRatio: Number((handClientSide.rps / direct).toFixed(3)),
    smallGetHandProxyRatio: Number((handProxySide.rps / direct).toFixed(3)),
    handClientCpuUsPerGet: Math.round(handClientSide.cpuUs),
    handProxyCpuUsPerGet: Math.round(handProxySide.cpuUs),
    putGiBSeconds: Number(putSeconds.toFixed(2)),
    proxyRssBaselineMiB: Number((baseline / MiB).toFixed(1)),
    proxyRssPeakMiB: Number((peak / MiB).toFixed(1)),
    proxyRssGrowthMiB: Number((putGrowth / MiB).toFixed(1)),
    getGiBSeconds: Number(getSeconds.toFixed(2)),
    proxyRssGetGrowthMiB: Number((getGrowth / MiB).toFixed(1)),
  })}`,
);
