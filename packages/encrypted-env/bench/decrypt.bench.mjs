// Decrypting 100 encryptedEnv variables through decryptEnvVars (the built dist), against two baselines
// measured in the same run: openpgp.decrypt ×100 with the same key (what the library would cost
// without its native RSA path), and JSON.parse + base64 of the same plaintexts (the floor).
// Run: node tools/bench.mjs decrypt   (after `npx nx build encrypted-env`). Last line: BENCH_JSON {...}
import { performance } from 'node:perf_hooks';
import * as openpgp from 'openpgp';

const lib = await import('@docker-worker/encrypted-env').catch((err) => {
  console.error(
    `bench: cannot import @docker-worker/encrypted-env (${err.message}); build it first: npx nx build encrypted-env`,
  );
  process.exit(1);
});
const { decryptEnvVars, encryptEnvVar, generateWorkerKeys, readPrivateKey } = lib;

const N = 100;
const RUNS = 7;
const TASK = 'fN1SbArXTPSVFNUvaOlinQ';

async function time(fn) {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

function median(times) {
  const sorted = [...times].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

const figures = { variables: N };
for (const type of ['curve25519', 'rsa']) {
  const keys = await generateWorkerKeys({ type });
  const now = Date.now();
  const encryptedEnv = [];
  const plaintexts = [];
  for (let i = 0; i < N; i++) {
    const value = `token-${i}-${'x'.repeat(40)}`;
    encryptedEnv.push(
      await encryptEnvVar({
        publicKey: keys.publicKey,
        taskId: TASK,
        name: `VAR_${i}`,
        value,
        startTime: now,
        endTime: now + 3_600_000,
      }),
    );
    plaintexts.push(
      Buffer.from(
        JSON.stringify({
          messageVersion: 1,
          taskId: TASK,
          startTime: now,
          endTime: now + 3_600_000,
          name: `VAR_${i}`,
          value,
        }),
      ).toString('base64'),
    );
  }
  const privateKey = await readPrivateKey(keys.privateKey);
  const check = await decryptEnvVars({ privateKey, taskId: TASK, env: {}, encryptedEnv, now });
  if (Object.keys(check).length !== N)
    throw new Error('bench: decryptEnvVars returned the wrong number of variables');

  // Interleaved rounds, medians: the machine is shared, so neighbours' load hits every variant alike.
  const t = { ours: [], withKeyRead: [], raw: [], floor: [] };
  for (let round = 0; round < RUNS; round++) {
    t.ours.push(await time(() => decryptEnvVars({ privateKey, taskId: TASK, env: {}, encryptedEnv, now })));
    t.withKeyRead.push(
      await time(() =>
        decryptEnvVars({ privateKey: keys.privateKey, taskId: TASK, env: {}, encryptedEnv, now }),
      ),
    );
    // openpgp.js alone is slow for RSA on Node >= 20.11 (BigInt fallback, ~4 s): two rounds there.
    if (type !== 'rsa' || round < 2) {
      t.raw.push(
        await time(() =>
          Promise.all(
            encryptedEnv.map(async (m) =>
              openpgp.decrypt({
                message: await openpgp.readMessage({ binaryMessage: Buffer.from(m, 'base64') }),
                decryptionKeys: privateKey,
                format: 'binary',
              }),
            ),
          ),
        ),
      );
    }
    t.floor.push(
      await time(() => plaintexts.map((p) => JSON.parse(Buffer.from(p, 'base64').toString('utf8')))),
    );
  }
  const [ours, withKeyRead, raw, floor] = [t.ours, t.withKeyRead, t.raw, t.floor].map(median);
  const label = type === 'rsa' ? 'RSA 4096' : 'Curve25519';
  console.log(
    `${label}: decryptEnvVars of ${N} variables: ${ours.toFixed(1)} ms (${(ours / N).toFixed(2)} ms each); with reading the armored key: ${withKeyRead.toFixed(1)} ms`,
  );
  console.log(
    `${label}:   baseline openpgp.decrypt ×${N}: ${raw.toFixed(1)} ms → decryptEnvVars/openpgp = ${(ours / raw).toFixed(2)}×`,
  );
  console.log(
    `${label}:   floor JSON.parse+base64 ×${N}: ${floor.toFixed(2)} ms → decryptEnvVars/floor = ${(ours / floor).toFixed(0)}×`,
  );
  const k = type === 'rsa' ? 'rsa4096' : 'curve25519';
  Object.assign(figures, {
    [`${k}_decrypt100_ms`]: round(ours),
    [`${k}_decrypt100_with_key_read_ms`]: round(withKeyRead),
    [`${k}_openpgp_decrypt100_ms`]: round(raw),
    [`${k}_ratio_vs_openpgp`]: round(ours / raw, 3),
    [`${k}_floor_ms`]: round(floor, 3),
  });
}
console.log(`BENCH_JSON ${JSON.stringify(figures)}`);

function round(x, digits = 1) {
  return Number(x.toFixed(digits));
}
