#!/usr/bin/env node
// Task-image load throughput (#13): a `docker save` of BENCH_IMAGE (default debian:bookworm-slim)
// stored as a task artifact on a fake-taskcluster (a process of its own), resolved by the runner's
// task-image source (download over loopback → decompress → tags stripped → `docker load`, streamed)
// against the same job by hand with the best tools, in the same run: `curl URL | docker load` (for
// .tar.zst: `curl URL | zstd -dc | docker load`). The floor below that, `docker load -i` of the
// local file (no download), is printed too. The image's layers are on the engine already (as on a
// worker that ran its base before), so all load the same bytes the same way.
// Run: node tools/bench.mjs image   (needs the runner built)
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, rmSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const dist = (p) => pathToFileURL(resolve(here, '../dist', p)).href;
const { createDockerClient } = await import(dist('index.js'));
const { fakeRun, publishArtifact } = await import(dist('testing/index.js'));
const { resolveArtifactImage } = await import(dist('images/sources/task-image.js'));

const IMAGE = process.env.BENCH_IMAGE ?? 'debian:bookworm-slim';
const ADMIN = { clientId: 'admin', accessToken: 'admin-token-0123456789' };
const MIB = 1024 * 1024;
const tmp = mkdtempSync(join(tmpdir(), 'runner-image-bench-'));
const now = () => Number(process.hrtime.bigint()) / 1e6;
const sh = (cmd) => {
  const r = spawnSync('/bin/sh', ['-c', cmd], { encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.status !== 0) throw new Error(`${cmd}: ${r.stderr.slice(-1000)}`);
};
const timed = async (fn) => {
  const start = now();
  await fn();
  return now() - start;
};

let code = 0;
// fake-taskcluster in a process of its own (as the real queue is): serving the artifact from this
// process would take the event loop the download, decompression and load run on.
writeFileSync(join(tmp, 'clients.json'), JSON.stringify([{ ...ADMIN, scopes: ['*'] }]));
const fake = spawn(
  process.execPath,
  [
    resolve(here, '../../fake-taskcluster/dist/cli.js'),
    '--clients-file',
    join(tmp, 'clients.json'),
    '--storage-dir',
    join(tmp, 'storage'),
  ],
  { stdio: ['ignore', 'pipe', 'inherit'] },
);
const [first] = await once(fake.stdout, 'data');
const tc = { rootUrl: /http:\/\/\S+/.exec(String(first))[0] };
const docker = createDockerClient();
const made = [];
try {
  const tar = join(tmp, 'image.tar');
  sh(`docker save ${IMAGE} -o ${tar}`);
  sh(`zstd -q -3 ${tar} -o ${tar}.zst`);
  const mib = statSync(tar).size / MIB;
  const rows = [];
  const figures = {};
  for (const [path, file, local] of [
    ['public/image.tar', tar, `docker load -q -i ${tar}`],
    ['public/image.tar.zst', `${tar}.zst`, `zstd -dc ${tar}.zst | docker load -q`],
  ]) {
    const taskId = await publishArtifact({
      rootUrl: tc.rootUrl,
      credentials: ADMIN,
      name: path,
      bytes: readFileSync(file),
    });
    // A public artifact: the queue redirects to the stored bytes, no credentials needed.
    const url = `${tc.rootUrl}/api/queue/v1/task/${taskId}/artifacts/${encodeURIComponent(path)}`;
    const baseline = `curl -sfL ${url} | ${path.endsWith('.zst') ? 'zstd -dc | ' : ''}docker load -q`;
    const once = async () => {
      const { run } = fakeRun({
        docker,
        rootUrl: tc.rootUrl,
        credentials: ADMIN,
        config: { dockerConfig: { maxAttempts: 1, delayFactorMs: 0 } },
      });
      let ref;
      const ms = await timed(async () => (ref = (await resolveArtifactImage({ taskId, path }, run)).ref));
      made.push(ref);
      await run.liveLog.close();
      sh(`docker rmi ${ref}`); // untag: the image stays (it is IMAGE's)
      return ms;
    };
    await once(); // warm-up (modules, engine caches)
    // Alternating, two each: the fastest of each side.
    const bases = [];
    const ourss = [];
    const floors = [];
    for (let i = 0; i < 2; i++) {
      bases.push(await timed(() => sh(baseline)));
      ourss.push(await once());
      floors.push(await timed(() => sh(local)));
    }
    const base = Math.min(...bases);
    const ours = Math.min(...ourss);
    const floor = Math.min(...floors);
    const ratio = base / ours;
    const fmt = (ms) => `${(mib / (ms / 1000)).toFixed(0)} MiB/s`;
    console.log(
      `${path} (${mib.toFixed(0)} MiB tar, ${(statSync(file).size / MIB).toFixed(0)} MiB file): \`${baseline.replace(url, 'URL')}\` ${(base / 1000).toFixed(2)} s = ${fmt(base)}; task-image source ${(ours / 1000).toFixed(2)} s = ${fmt(ours)}; ratio ${ratio.toFixed(2)} (the local file, no download: \`${local.replace(tmp, '…')}\` ${(floor / 1000).toFixed(2)} s = ${fmt(floor)}, ${(floor / ours).toFixed(2)})`,
    );
    const fmtName = path.endsWith('.zst') ? 'zst' : 'tar';
    figures[fmtName] = {
      mib: Number(mib.toFixed(1)),
      baselineSeconds: Number((base / 1000).toFixed(3)),
      localFileSeconds: Number((floor / 1000).toFixed(3)),
      workerSeconds: Number((ours / 1000).toFixed(3)),
      workerMiBps: Number((mib / (ours / 1000)).toFixed(1)),
    };
    rows.push({
      id: `IMG ${fmtName}`,
      measure: `task-image load (${path.slice(7)}, download + decompress + strip tags + docker load) vs curl | ${path.endsWith('.zst') ? 'zstd -dc | ' : ''}docker load (throughput)`,
      ratio: Number(ratio.toFixed(3)),
      target: 0.8,
      better: 'higher',
      met: ratio >= 0.8,
    });
  }
  console.log(`BENCH_JSON ${JSON.stringify({ rows, image: IMAGE, ...figures })}`);
} catch (err) {
  console.error(`image bench: ${err instanceof Error ? err.stack : err}`);
  code = 1;
} finally {
  for (const ref of made) spawnSync('docker', ['rmi', ref], { stdio: 'ignore' });
  fake.kill('SIGTERM');
  await once(fake, 'exit');
  rmSync(tmp, { recursive: true, force: true });
}
process.exit(code);
