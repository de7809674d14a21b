/**
 * The chain of trust against the real engine, in local mode (the files land in the artifacts
 * directory) and queue mode (fake-taskcluster): the signature verifies with `docker-worker
 * verify-cot`, every stored artifact is listed with its sha256, one altered byte of an artifact
 * or of the json fails the check, and a worker without a signing key refuses the feature.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newSession } from './docker.js';
import { QueueSession } from './queue-harness.js';
import { CLI, RunnerSession } from './runner-harness.js';

const exec = promisify(execFile);
const sh = (script: string): string[] => ['/bin/sh', '-c', script];
const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

async function cli(args: string[]): Promise<{ code: number; out: string }> {
  try {
    const { stdout } = await exec(process.execPath, [CLI, ...args]);
    return { code: 0, out: stdout };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, out: e.stdout + e.stderr };
  }
}

const task = {
  payload: {
    image: 'debian:bookworm-slim',
    maxRunTime: 60,
    command: sh(
      'mkdir -p /out/d; echo hello > /out/a.txt; head -c 3000 /dev/urandom > /out/d/b.bin; echo made',
    ),
    artifacts: {
      'public/a.txt': { type: 'file', path: '/out/a.txt' },
      'public/d': { type: 'directory', path: '/out/d' },
    },
    features: { chainOfTrust: true },
  },
};

let keys: string;
let local: RunnerSession;
let q: QueueSession;

beforeAll(async () => {
  const id = newSession();
  local = new RunnerSession(`e2e-cot-${id}`);
  keys = join(local.dir, 'keys');
  const made = await cli(['keygen-cot', '--out', keys]);
  expect(made.code, made.out).toBe(0);
  q = await QueueSession.start(`e2e-cotq-${id}`);
});

afterAll(async () => {
  await local?.removeAll();
  await q?.close();
});

const pub = (): string => join(keys, 'cot-public-key.pem');
const signingKey = (): string => join(keys, 'cot-signing-key.pem');

describe('chainOfTrust, local mode', () => {
  it('signs what the run stored; verify-cot passes, and fails on one altered byte of an artifact or of the json', async () => {
    const session = new RunnerSession(`${local.workerId}-k`, { keys: { ed25519SigningKey: signingKey() } });
    const r = await session.run(task);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const dir = r.artifactsDir;
    const json = join(dir, 'public/chain-of-trust.json');
    const sig = join(dir, 'public/chain-of-trust.json.sig');
    const cot = JSON.parse(readFileSync(json, 'utf8')) as { artifacts: Record<string, { sha256: string }> };
    const stored = r.result.artifacts
      .map((a) => a.name)
      .filter((n) => !n.startsWith('public/chain-of-trust') && n !== 'public/logs/live_backing.log');
    expect(Object.keys(cot.artifacts).sort()).toEqual(stored.sort());
    expect(stored).toEqual(
      expect.arrayContaining(['public/a.txt', 'public/d/b.bin', 'public/logs/certified.log']),
    );
    for (const [name, { sha256: hash }] of Object.entries(cot.artifacts))
      expect(hash, name).toBe(sha256(readFileSync(join(dir, name))));

    const ok = await cli(['verify-cot', '--key', pub(), json, sig, '--artifacts', dir]);
    expect(ok.code, ok.out).toBe(0);
    expect(ok.out.split('\n').filter((l) => l.startsWith('ok '))).toHaveLength(1 + stored.length);

    const bin = join(dir, 'public/d/b.bin');
    const original = readFileSync(bin);
    const altered = Buffer.from(original);
    altered[100] = altered[100]! ^ 0x01;
    writeFileSync(bin, altered);
    const badArtifact = await cli(['verify-cot', '--key', pub(), json, sig, '--artifacts', dir]);
    expect(badArtifact.code).toBe(1);
    expect(badArtifact.out).toMatch(/^FAIL public\/d\/b\.bin: sha256 is /m);
    writeFileSync(bin, original);

    const text = readFileSync(json);
    const forged = Buffer.from(text);
    const at = text.indexOf('"workerId"') + 2;
    forged[at] = forged[at]! ^ 0x01;
    writeFileSync(json, forged);
    const badJson = await cli(['verify-cot', '--key', pub(), json, sig]);
    expect(badJson.code).toBe(1);
    expect(badJson.out).toMatch(/^FAIL signature of .* does not verify/m);
    expect(await session.leftovers()).toEqual({ containers: 0, networks: 0 });
    await session.removeAll();
  });

  it('a worker without keys.ed25519SigningKey resolves the task malformed-payload naming the key', async () => {
    const r = await local.run(task);
    expect(r.code).toBe(2);
    expect(r.result).toMatchObject({ state: 'exception', reasonResolved: 'malformed-payload' });
    expect(r.stdout).toContain('keys.ed25519SigningKey');
  });
});

describe('chainOfTrust, queue mode', () => {
  it('the uploaded chain of trust verifies against the uploaded artifacts', async () => {
    const taskId = await q.createTask(task.payload);
    const worker = await q.startWorker({ keys: { ed25519SigningKey: signingKey() } }, ['--once']);
    expect(await q.resolved(taskId)).toBe('completed');
    expect(await worker.exited).toBe(0);
    const dir = join(q.dir, 'downloaded');
    const fetchTo = async (name: string): Promise<Buffer> => {
      const res = await fetch(q.admin.buildUrl(q.admin.getArtifact, taskId, '0', name));
      expect(res.status, name).toBe(200);
      const body = Buffer.from(await res.arrayBuffer());
      mkdirSync(dirname(join(dir, name)), { recursive: true });
      writeFileSync(join(dir, name), body);
      return body;
    };
    const json = await fetchTo('public/chain-of-trust.json');
    await fetchTo('public/chain-of-trust.json.sig');
    const cot = JSON.parse(json.toString()) as {
      artifacts: Record<string, unknown>;
      task: { metadata: { name: string } };
      taskId: string;
    };
    expect(cot.taskId).toBe(taskId);
    expect(cot.task.metadata.name).toBe('e2e'); // the definition as the queue serves it
    expect(Object.keys(cot.artifacts).sort()).toEqual([
      'public/a.txt',
      'public/d/b.bin',
      'public/logs/certified.log',
    ]);
    for (const name of Object.keys(cot.artifacts)) await fetchTo(name);
    const ok = await cli([
      'verify-cot',
      '--key',
      pub(),
      join(dir, 'public/chain-of-trust.json'),
      join(dir, 'public/chain-of-trust.json.sig'),
      '--artifacts',
      dir,
    ]);
    expect(ok.code, ok.out).toBe(0);
  });
});
