// The docker-worker/encrypted-env image: --help, and `encrypt` against a public key in a mounted
// directory (made at test time); the library decrypts what the container printed.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decryptEnvVars, generateWorkerKeys } from '@docker-worker/encrypted-env';
import { demux, docker, labels, newSession, removeByLabel } from './docker.js';

const IMAGE = 'docker-worker/encrypted-env:latest';
const session = newSession();
let dir: string;
let keys: { privateKey: string; publicKey: string };

/** `docker run --rm -v dir:/keys IMAGE ...args`, labelled, removed afterwards. */
async function runImage(args: string[]): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const container = await docker.createContainer({
    Image: IMAGE,
    Cmd: args,
    Labels: labels(session),
    HostConfig: { Binds: [`${dir}:/keys`], NetworkMode: 'none' },
  });
  try {
    await container.start();
    const { StatusCode } = (await container.wait()) as { StatusCode: number };
    const out = (await container.logs({ stdout: true, stderr: false })) as unknown as Buffer;
    const err = (await container.logs({ stdout: false, stderr: true })) as unknown as Buffer;
    return { exitCode: StatusCode, stdout: demux(out), stderr: demux(err) };
  } finally {
    await container.remove({ force: true });
  }
}

beforeAll(async () => {
  await docker.getImage(IMAGE).inspect(); // fails clearly if `npx nx run encrypted-env:image` has not run
  dir = mkdtempSync(join(tmpdir(), 'encrypted-env-image-'));
  chmodSync(dir, 0o755);
  keys = await generateWorkerKeys();
  writeFileSync(join(dir, 'pub.asc'), keys.publicKey);
  writeFileSync(join(dir, 'value.txt'), 'token from a file\n');
});

afterAll(async () => {
  await removeByLabel(session);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('docker-worker/encrypted-env image', () => {
  it('runs --help (also the default command)', async () => {
    const help = await runImage(['--help']);
    expect(help.exitCode).toBe(0);
    expect(help.stdout).toContain('Usage: encrypted-env [options] [command]');
    for (const cmd of ['keygen', 'encrypt', 'decrypt']) expect(help.stdout).toContain(cmd);
    const encryptHelp = await runImage(['encrypt', '--help']);
    expect(encryptHelp.stdout).toContain('--value-file <file>');
    expect((await runImage([])).stdout).toBe(help.stdout);
  });

  it('encrypts with a public key from the mounted directory; the library decrypts the output', async () => {
    const r = await runImage([
      'encrypt',
      '--key',
      '/keys/pub.asc',
      '--task-id',
      'fN1SbArXTPSVFNUvaOlinQ',
      '--name',
      'TOKEN',
      '--value-file',
      '/keys/value.txt',
      '--json',
    ]);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    const encryptedEnv = JSON.parse(r.stdout) as string[];
    const env = await decryptEnvVars({
      privateKey: keys.privateKey,
      taskId: 'fN1SbArXTPSVFNUvaOlinQ',
      env: {},
      encryptedEnv,
      now: Date.now(),
    });
    expect(env).toEqual({ TOKEN: 'token from a file\n' });
  });

  it('keygen writes into the mounted directory, relative to the working directory /keys', async () => {
    const r = await runImage(['keygen', '--out', 'made']);
    expect(r).toMatchObject({ exitCode: 0, stdout: 'made/worker-private.asc\nmade/worker-public.asc\n' });
    const enc = await runImage([
      'encrypt',
      '--key',
      'made/worker-public.asc',
      '--task-id',
      'T',
      '--name',
      'A',
      '--value',
      'b',
    ]);
    const dec = await runImage([
      'decrypt',
      '--key',
      'made/worker-private.asc',
      '--task-id',
      'T',
      enc.stdout.trim(),
    ]);
    expect(dec).toMatchObject({ exitCode: 0, stdout: 'A\n' });
  });

  it('fails with one line and exit 1 for a missing key file', async () => {
    const r = await runImage([
      'encrypt',
      '--key',
      '/keys/missing.asc',
      '--task-id',
      'T',
      '--name',
      'A',
      '--value',
      'b',
    ]);
    expect(r).toEqual({
      exitCode: 1,
      stdout: '',
      stderr:
        "encrypted-env: cannot read --key /keys/missing.asc: no such file; give the path of the worker's public key (worker-public.asc)\n",
    });
  });
});
