import { createHash, generateKeyPairSync } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { naclSecretKey, parsePublicKey, parseSigningKey, verifyBytes } from '../cot/ed25519.js';
import { FakeDocker } from '../testing/fake-docker.js';
import { fakeOutcome, fakeRun, startFeature } from '../testing/fake-run.js';
import { chainOfTrust } from './chain-of-trust.js';

const sha256 = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

function keyFiles(dir: string) {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const pem = join(dir, 'key.pem');
  const nacl = join(dir, 'key.nacl');
  writeFileSync(pem, privateKey.export({ format: 'pem', type: 'pkcs8' }));
  writeFileSync(nacl, naclSecretKey(privateKey));
  return { pem, nacl, publicKey };
}

describe('chainOfTrust', () => {
  it.each(['pem', 'nacl'] as const)(
    'signs the json (key as %s) listing every stored file and the certified log',
    async (format) => {
      const docker = new FakeDocker();
      const probe = fakeRun();
      const keys = keyFiles(probe.dir);
      const { run, dir } = fakeRun({
        docker,
        payload: { features: { chainOfTrust: true } },
        config: {
          keys: { ed25519SigningKey: keys[format] },
          chainOfTrust: { region: 'eu-west-9' },
          // Not repeated under chainOfTrust: the worker's own facts serve.
          publicIp: '192.0.2.7',
          instanceType: 'c5.xlarge',
        },
      });
      const handle = await startFeature(chainOfTrust, run);
      const id = await docker.createContainer({
        image: 'debian:bookworm-slim',
        env: {},
        labels: {},
        network: 'n',
      });
      run.liveLog.info('hello from the task');
      run.imageArtifactSha256 = sha256('the image artifact'); // as the image feature sets it for a task image
      await run.artifacts.putFile('public/a.txt', Readable.from([Buffer.from('A')]), {
        contentType: 'text/plain',
        expires: run.task.expires,
      });
      await handle.stop(fakeOutcome({ containerId: id }));
      const out = join(dir, 'artifacts');
      const json = readFileSync(join(out, 'public/chain-of-trust.json'));
      const sig = readFileSync(join(out, 'public/chain-of-trust.json.sig'));
      expect(verifyBytes(json, sig, keys.publicKey)).toBe(true);
      const cot = JSON.parse(json.toString()) as Record<string, unknown>;
      const log = readFileSync(join(out, 'public/logs/certified.log'));
      expect(log.toString()).toContain('hello from the task');
      expect(cot.artifacts).toEqual({
        'public/a.txt': { sha256: sha256('A') },
        'public/logs/certified.log': { sha256: sha256(log) },
      });
      expect(cot).toMatchObject({
        chainOfTrustVersion: 1,
        taskId: run.task.taskId,
        runId: 0,
        workerGroup: run.config.workerGroup,
        workerId: 'test-worker',
        workerType: run.config.workerType,
        task: { payload: { features: { chainOfTrust: true } } },
        environment: {
          imageHash: 'sha256:debian:bookworm-slim',
          imageArtifactHash: `sha256:${sha256('the image artifact')}`,
          region: 'eu-west-9',
          publicIpAddress: '192.0.2.7',
          instanceType: 'c5.xlarge',
        },
      });
      const altered = Buffer.from(json);
      altered[10] = altered[10]! ^ 1;
      expect(verifyBytes(altered, sig, keys.publicKey)).toBe(false);
    },
  );

  it('streams the certified log from the log file, never the whole log in one buffer', async () => {
    const probe = fakeRun();
    const { pem } = keyFiles(probe.dir);
    const { run, dir } = fakeRun({
      payload: { features: { chainOfTrust: true } },
      config: { keys: { ed25519SigningKey: pem } },
    });
    const handle = await startFeature(chainOfTrust, run);
    const line = 'x'.repeat(1023);
    for (let i = 0; i < 4096; i++) await run.liveLog.output(`${line}\n`); // 4 MiB of task output
    let largest = 0;
    const putFile = run.artifacts.putFile.bind(run.artifacts);
    run.artifacts.putFile = (name, body, meta) => {
      if (name !== 'public/logs/certified.log') return putFile(name, body, meta);
      const tap = new Transform({
        transform(chunk: Buffer, _encoding, done) {
          largest = Math.max(largest, chunk.length);
          done(null, chunk);
        },
      });
      return putFile(name, body.pipe(tap), meta);
    };
    await handle.stop(fakeOutcome());
    const log = readFileSync(join(dir, 'artifacts', 'public/logs/certified.log'));
    expect(log.length).toBeGreaterThanOrEqual(4096 * 1024);
    expect(log.equals(readFileSync(run.liveLog.path).subarray(0, log.length))).toBe(true);
    expect(largest).toBeGreaterThan(0);
    expect(largest).toBeLessThanOrEqual(1024 * 1024);
  });

  it('is malformed-payload naming the config key when the worker has no signing key', async () => {
    const { run } = fakeRun({ payload: { features: { chainOfTrust: true } } });
    await expect(startFeature(chainOfTrust, run)).rejects.toMatchObject({
      resolution: 'malformed-payload',
      message: expect.stringContaining('keys.ed25519SigningKey'),
    });
  });

  it('is enabled unless the worker config says features.chainOfTrust.enabled: false', () => {
    expect(chainOfTrust.isEnabled(fakeRun().run.config)).toBe(true);
    const off = fakeRun({ config: { features: { chainOfTrust: { enabled: false } } } }).run.config;
    expect(chainOfTrust.isEnabled(off)).toBe(false);
  });

  it('an unusable key file is internal-error naming the key, never its content', async () => {
    const { run: probe, dir } = fakeRun();
    void probe;
    const file = join(dir, 'bad.key');
    writeFileSync(file, 'c2VjcmV0LXNlY3JldA==');
    const { run } = fakeRun({
      payload: { features: { chainOfTrust: true } },
      config: { keys: { ed25519SigningKey: file } },
    });
    const err = await startFeature(chainOfTrust, run).catch((e: Error) => e);
    expect(err).toMatchObject({ resolution: 'internal-error' });
    expect((err as Error).message).toContain('keys.ed25519SigningKey');
    expect((err as Error).message).not.toContain('c2VjcmV0');
  });

  it('a cancelled run signs nothing', async () => {
    const { dir } = fakeRun();
    const keys = keyFiles(dir);
    const { run, dir: runDir } = fakeRun({
      payload: { features: { chainOfTrust: true } },
      config: { keys: { ed25519SigningKey: keys.pem } },
    });
    const handle = await startFeature(chainOfTrust, run);
    await handle.stop(fakeOutcome({ reasonResolved: 'canceled', canceled: true }));
    expect(run.artifacts.records).toEqual([]);
    void runDir;
  });
});

describe('cot keys', () => {
  it('reads both key formats to the same key and refuses a mismatched NaCl key', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    const nacl = naclSecretKey(privateKey);
    const a = parseSigningKey(pem, 'a').export({ format: 'der', type: 'pkcs8' });
    const b = parseSigningKey(nacl, 'b').export({ format: 'der', type: 'pkcs8' });
    expect(a.equals(b)).toBe(true);
    const raw = Buffer.from(nacl, 'base64');
    raw[40] = raw[40]! ^ 1;
    expect(() => parseSigningKey(raw.toString('base64'), 'k.key')).toThrow(/k\.key.*does not match/);
    const spki = publicKey.export({ format: 'pem', type: 'spki' }).toString();
    const raw32 = publicKey.export({ format: 'der', type: 'spki' }).subarray(12).toString('base64');
    expect(parsePublicKey(raw32, 'p').export({ format: 'pem', type: 'spki' })).toBe(spki);
    expect(() => parsePublicKey('nope', 'p.pem')).toThrow(/p\.pem/);
  });
});
