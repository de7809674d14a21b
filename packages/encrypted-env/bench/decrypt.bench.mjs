// Decrypting 100 encryptedEnv variables through decryptEnvVars (the built dist), against two baselines
// measured in the same run: openpgp.decrypt ×100 with the same key (what the library would cost
// without its native RSA path), and JSON.parse + base64 of the same plaintexts (the floor).
// Then a timing comparison of failures (Bleichenbacher / Marvin): messages whose RSA session key has
// a bad EME-PKCS1-v1_5 padding against ones with a good padding and a bad OpenPGP checksum (and a
// well-formed but wrong session key), interleaved in random order, many tries each: the medians, their
// ratio and a Mann-Whitney z (|z| well below 3 = the two cannot be told apart at this sample size); the
// same for openpgp.js's own RSA path, the alternative. BENCH_TIMING_TRIES sets the tries (default 300).
// Run: node tools/bench.mjs decrypt   (after `npx nx build encrypted-env`). Last line: BENCH_JSON {...}
import { performance } from 'node:perf_hooks';
import * as openpgp from 'openpgp';
import { FORGED_KINDS, forgeSessionKey, rsaPublicOf } from '../test-support/forge-session-key.mjs';

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
const rsaCase = {};
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
  if (type === 'rsa') Object.assign(rsaCase, { keys, privateKey, message: encryptedEnv[0], now });
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
    // openpgp.js alone is slow for RSA on Node >= 20.11 (BigInt fallback, ~6 s): one round there.
    if (type !== 'rsa' || round < 1) {
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
Object.assign(figures, await failureTiming(rsaCase));
console.log(`BENCH_JSON ${JSON.stringify(figures)}`);

/** Time to fail for each forged kind, through decryptEnvVars and through openpgp.js's own path. */
async function failureTiming({ keys, privateKey, message, now }) {
  const tries = Number(process.env.BENCH_TIMING_TRIES ?? 300);
  const rsaPublic = await rsaPublicOf(keys.publicKey);
  const jobs = [];
  for (const kind of FORGED_KINDS)
    for (let i = 0; i < tries; i++) jobs.push({ kind, m: await forgeSessionKey(message, rsaPublic, kind) });
  shuffle(jobs);
  const errors = new Set();
  const ours = await timeFailures(jobs, async (m) => {
    const err = await decryptEnvVars({ privateKey, taskId: TASK, env: {}, encryptedEnv: [m], now }).then(
      () => new Error('bench: a forged message decrypted'),
      (e) => e,
    );
    errors.add(`${err.rule} ${err.message.replace(err.incidentId, '<id>')} ${err.cause ?? ''}`);
  });
  console.log(`RSA 4096 failures: ${errors.size} different error(s) for the ${jobs.length} forged messages`);
  const out = { rsa4096_forged_distinct_errors: errors.size, ...report('decryptEnvVars', ours, tries) };
  // openpgp.js alone costs ~60 ms per RSA 4096 failure (BigInt; ~180 ms constant-time), so a tenth
  // of the tries there (the whole bench stays within 10 minutes).
  const fewer = shuffle(jobs.filter((_, i) => i % 10 === 0));
  for (const constantTimePKCS1Decryption of [false, true]) {
    const config = { constantTimePKCS1Decryption };
    // The constant-time path is ~3x slower again: half of those.
    const subset = constantTimePKCS1Decryption ? fewer.filter((_, i) => i % 2 === 0) : fewer;
    const t = await timeFailures(subset, async (m) => {
      const msg = await openpgp.readMessage({ binaryMessage: Buffer.from(m, 'base64') });
      await openpgp.decrypt({ message: msg, decryptionKeys: privateKey, config }).then(
        () => {
          throw new Error('bench: a forged message decrypted');
        },
        () => undefined,
      );
    });
    const name = `openpgp.js${constantTimePKCS1Decryption ? ' constantTimePKCS1Decryption' : ''}`;
    const r = report(name, t, subset.length / FORGED_KINDS.length);
    const key = constantTimePKCS1Decryption ? 'openpgp_ct' : 'openpgp';
    for (const [k, v] of Object.entries(r)) out[k.replace('ours', key)] = v;
  }
  return out;
}

async function timeFailures(jobs, fail) {
  const samples = Object.fromEntries(FORGED_KINDS.map((k) => [k, []]));
  for (const { m } of jobs.slice(0, 10)) await fail(m); // warm-up
  for (const { kind, m } of jobs) {
    const t = performance.now();
    await fail(m);
    samples[kind].push(performance.now() - t);
  }
  return samples;
}

function report(name, samples, tries) {
  const [pad, sum, wrong] = FORGED_KINDS.map((k) => samples[k]);
  const [mPad, mSum, mWrong] = [pad, sum, wrong].map(median);
  const z = mannWhitneyZ(pad, sum);
  const ms = (x) => `${x.toFixed(3)} ms`;
  console.log(
    `RSA 4096 failures, ${name}, ${Math.round(tries)} tries each: bad padding ${ms(mPad)} (p25-p75 ${ms(quantile(pad, 0.25))}-${ms(quantile(pad, 0.75))}), ` +
      `good padding + bad checksum ${ms(mSum)} (${ms(quantile(sum, 0.25))}-${ms(quantile(sum, 0.75))}), good padding + wrong session key ${ms(mWrong)}`,
  );
  console.log(
    `RSA 4096 failures, ${name}:   bad padding / bad checksum = ${(mPad / mSum).toFixed(3)}×, bad padding / wrong session key = ${(mPad / mWrong).toFixed(3)}×, Mann-Whitney z (padding vs checksum) = ${z.toFixed(2)}`,
  );
  return {
    rsa4096_fail_bad_padding_ours_ms: round(mPad, 3),
    rsa4096_fail_bad_checksum_ours_ms: round(mSum, 3),
    rsa4096_fail_wrong_session_key_ours_ms: round(mWrong, 3),
    rsa4096_fail_padding_vs_checksum_ours_ratio: round(mPad / mSum, 3),
    rsa4096_fail_padding_vs_checksum_ours_z: round(z, 2),
  };
}

function quantile(times, q) {
  const sorted = [...times].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))];
}

/** z of the Mann-Whitney U test (normal approximation, ties averaged): ~N(0,1) when a and b are alike. */
function mannWhitneyZ(a, b) {
  const all = [...a.map((v) => [v, 0]), ...b.map((v) => [v, 1])].sort((x, y) => x[0] - y[0]);
  let rankA = 0;
  for (let i = 0; i < all.length;) {
    let j = i;
    while (j < all.length && all[j][0] === all[i][0]) j++;
    const rank = (i + 1 + j) / 2;
    for (let t = i; t < j; t++) if (all[t][1] === 0) rankA += rank;
    i = j;
  }
  const u = rankA - (a.length * (a.length + 1)) / 2;
  const mean = (a.length * b.length) / 2;
  const sd = Math.sqrt((a.length * b.length * (a.length + b.length + 1)) / 12);
  return (u - mean) / sd;
}

function shuffle(xs) {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [xs[i], xs[j]] = [xs[j], xs[i]];
  }
  return xs;
}

function round(x, digits = 1) {
  return Number(x.toFixed(digits));
}
