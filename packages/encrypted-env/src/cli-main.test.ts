import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from './cli-main.js';
import { decryptEnvVars } from './index.js';
import { fakeIo } from '../test-support/io.js';

const NOW = Date.parse('2026-01-31T12:00:00Z');
const TASK = 'fN1SbArXTPSVFNUvaOlinQ';
let dir: string;
let pub: string;
let priv: string;

async function run(argv: string[], opts: { stdin?: string; now?: number } = {}) {
  const f = fakeIo({ now: NOW, ...opts });
  const code = await main(argv, f.io);
  return { code, stdout: f.stdout(), stderr: f.stderr() };
}

async function decryptOne(message: string, now = NOW) {
  return decryptEnvVars({
    privateKey: readFileSync(priv, 'utf8'),
    taskId: TASK,
    env: {},
    encryptedEnv: [message],
    now,
  });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'encrypted-env-cli-'));
  const r = await run(['keygen', '--out', join(dir, 'keys')]);
  expect(r.code).toBe(0);
  priv = join(dir, 'keys/worker-private.asc');
  pub = join(dir, 'keys/worker-public.asc');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('keygen', () => {
  it('writes worker-private.asc (0600) and worker-public.asc and prints their paths', async () => {
    expect(statSync(priv).mode & 0o777).toBe(0o600);
    expect(readFileSync(priv, 'utf8')).toMatch(/^-----BEGIN PGP PRIVATE KEY BLOCK-----/);
    expect(readFileSync(pub, 'utf8')).toMatch(/^-----BEGIN PGP PUBLIC KEY BLOCK-----/);
  });

  it('refuses to overwrite without --force, replaces with --force', async () => {
    const before = readFileSync(join(dir, 'keys/worker-public.asc'), 'utf8');
    const refused = await run(['keygen', '--out', join(dir, 'keys')]);
    expect(refused).toMatchObject({ code: 1, stdout: '' });
    expect(refused.stderr).toBe(
      `encrypted-env: ${priv} exists; pass --force to replace it, or choose another --out\n`,
    );
    const other = join(dir, 'other');
    expect((await run(['keygen', '--out', other])).code).toBe(0);
    const forced = await run(['keygen', '--out', other, '--force']);
    expect(forced.code).toBe(0);
    expect(forced.stdout).toBe(`${join(other, 'worker-private.asc')}\n${join(other, 'worker-public.asc')}\n`);
    expect(readFileSync(join(dir, 'keys/worker-public.asc'), 'utf8')).toBe(before);
  });

  it('protects the private key with --passphrase-file; decrypt then needs it', async () => {
    const out = join(dir, 'protected');
    writeFileSync(join(dir, 'pass.txt'), 'open sesame\n');
    expect((await run(['keygen', '--out', out, '--passphrase-file', join(dir, 'pass.txt')])).code).toBe(0);
    const m = (
      await run([
        'encrypt',
        '--key',
        join(out, 'worker-public.asc'),
        '--task-id',
        TASK,
        '--name',
        'P',
        '--value',
        'x',
      ])
    ).stdout.trim();
    const without = await run(['decrypt', '--key', join(out, 'worker-private.asc'), '--task-id', TASK, m]);
    expect(without.code).toBe(1);
    expect(without.stderr).toMatch(
      /^encrypted-env: --key .*: the private key is protected by a passphrase; give the passphrase .*\n$/,
    );
    const ok = await run([
      'decrypt',
      '--key',
      join(out, 'worker-private.asc'),
      '--task-id',
      TASK,
      '--passphrase-file',
      join(dir, 'pass.txt'),
      m,
    ]);
    expect(ok).toEqual({ code: 0, stdout: 'P\n', stderr: '' });
  });

  it('refuses an empty --passphrase-file (it would leave the key unprotected) and an --out that is a file', async () => {
    writeFileSync(join(dir, 'empty.txt'), '\n');
    const empty = await run([
      'keygen',
      '--out',
      join(dir, 'never'),
      '--passphrase-file',
      join(dir, 'empty.txt'),
    ]);
    expect(empty).toMatchObject({ code: 64, stdout: '' });
    expect(empty.stderr).toMatch(
      /^encrypted-env: --passphrase-file .*empty\.txt has an empty first line; put the passphrase on it, .*\n$/,
    );
    const file = await run(['keygen', '--out', join(dir, 'empty.txt')]);
    expect(file).toMatchObject({
      code: 1,
      stderr: `encrypted-env: cannot write the keys to ${join(dir, 'empty.txt')}: a file is in the way, not a directory; choose a writable directory as --out\n`,
    });
  });

  it('rejects an unknown --type as a usage error', async () => {
    const r = await run(['keygen', '--out', join(dir, 'x'), '--type', 'dsa']);
    expect(r.code).toBe(64);
    expect(r.stderr).toContain('--type "dsa" is not a key type; use curve25519 or rsa');
  });
});

describe('encrypt', () => {
  it('--value: one base64 line that the library decrypts; valid from now for 24h by default', async () => {
    const r = await run(['encrypt', '--key', pub, '--task-id', TASK, '--name', 'TOKEN', '--value', 's3cr3t']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^[A-Za-z0-9+/]+=*\n$/);
    expect(await decryptOne(r.stdout.trim())).toEqual({ TOKEN: 's3cr3t' });
    expect(await decryptOne(r.stdout.trim(), NOW + 24 * 3_600_000)).toEqual({ TOKEN: 's3cr3t' });
    await expect(decryptOne(r.stdout.trim(), NOW + 24 * 3_600_000 + 1)).rejects.toThrow(
      /end time .* is in the past/,
    );
    await expect(decryptOne(r.stdout.trim(), NOW - 1)).rejects.toThrow(/start time .* is in the future/);
  });

  it('stdin (one trailing newline removed) and --value-file (exact bytes)', async () => {
    const fromStdin = await run(['encrypt', '--key', pub, '--task-id', TASK, '--name', 'A'], {
      stdin: 'line1\nline2\n',
    });
    expect(await decryptOne(fromStdin.stdout.trim())).toEqual({ A: 'line1\nline2' });
    writeFileSync(join(dir, 'value.pem'), '-----BEGIN X-----\nabc\n-----END X-----\n');
    const fromFile = await run([
      'encrypt',
      '--key',
      pub,
      '--task-id',
      TASK,
      '--name',
      'B',
      '--value-file',
      join(dir, 'value.pem'),
    ]);
    expect(await decryptOne(fromFile.stdout.trim())).toEqual({
      B: '-----BEGIN X-----\nabc\n-----END X-----\n',
    });
  });

  it('--json prints a JSON array for payload.encryptedEnv; --start/--end take ISO dates or ms; --ttl a duration', async () => {
    const r = await run([
      'encrypt',
      '--key',
      pub,
      '--task-id',
      TASK,
      '--name',
      'J',
      '--value',
      'v',
      '--json',
      '--start',
      '2026-01-31T11:00:00Z',
      '--end',
      String(NOW + 1000),
    ]);
    const list = JSON.parse(r.stdout) as string[];
    expect(list).toHaveLength(1);
    expect(await decryptOne(list[0]!, NOW + 1000)).toEqual({ J: 'v' });
    await expect(decryptOne(list[0]!, NOW + 1001)).rejects.toThrow(/end time/);
    const ttl = await run([
      'encrypt',
      '--key',
      pub,
      '--task-id',
      TASK,
      '--name',
      'T',
      '--value',
      'v',
      '--ttl',
      '30m',
    ]);
    expect(await decryptOne(ttl.stdout.trim(), NOW + 30 * 60_000)).toEqual({ T: 'v' });
    await expect(decryptOne(ttl.stdout.trim(), NOW + 30 * 60_000 + 1)).rejects.toThrow(/end time/);
  });

  it('one-line errors: missing key file, wrong kind of key, expired --end (exit 1)', async () => {
    const base = ['encrypt', '--task-id', TASK, '--name', 'A', '--value', 'v'];
    expect(await run([...base, '--key', join(dir, 'missing.asc')])).toEqual({
      code: 1,
      stdout: '',
      stderr: `encrypted-env: cannot read --key ${join(dir, 'missing.asc')}: no such file; give the path of the worker's public key (worker-public.asc)\n`,
    });
    expect((await run([...base, '--key', priv])).stderr).toMatch(
      /^encrypted-env: --key .*: this is a private key; encrypt with the worker's public key .*\n$/,
    );
    writeFileSync(join(dir, 'junk.asc'), 'not a key');
    expect((await run([...base, '--key', join(dir, 'junk.asc')])).stderr).toMatch(
      /^encrypted-env: --key .*: the public key is not an armored OpenPGP key .*\n$/,
    );
    expect((await run([...base, '--key', dir])).stderr).toContain('it is a directory');
    const expired = await run([
      ...base,
      '--key',
      pub,
      '--start',
      '2020-01-01T00:00:00Z',
      '--end',
      '2020-01-02T00:00:00Z',
    ]);
    expect(expired).toMatchObject({
      code: 1,
      stderr:
        'encrypted-env: --end is in the past; the worker would reject the message as expired (choose a later --end or a --ttl)\n',
    });
  });

  it('an empty standard input is a forgotten value (exit 64), not an empty one', async () => {
    const r = await run(['encrypt', '--key', pub, '--task-id', TASK, '--name', 'A'], { stdin: '' });
    expect(r).toMatchObject({ code: 64, stdout: '' });
    expect(r.stderr).toContain(
      "standard input is empty; give --value, --value-file or pipe the value in (docker run needs -i); for an empty value use --value ''",
    );
    const empty = await run(['encrypt', '--key', pub, '--task-id', TASK, '--name', 'A', '--value', '']);
    expect(await decryptOne(empty.stdout.trim())).toEqual({ A: '' });
  });

  it('usage errors exit 64: both --value and --value-file, --end with --ttl, bad name, bad times, no value, missing option', async () => {
    const base = ['encrypt', '--key', pub, '--task-id', TASK];
    const cases: [string[], string][] = [
      [[...base, '--name', 'A', '--value', 'v', '--value-file', 'f'], 'give the value once'],
      [
        [...base, '--name', 'A', '--value', 'v', '--end', String(NOW + 5), '--ttl', '1h'],
        'give --end or --ttl, not both',
      ],
      [[...base, '--name', 'A=B', '--value', 'v'], '--name must be an environment variable name'],
      [[...base, '--name', 'A', '--value', 'v', '--start', 'yesterday'], '--start "yesterday" is not a time'],
      [[...base, '--name', 'A', '--value', 'v', '--ttl', '24'], '--ttl "24" is not a duration'],
      [[...base, '--name', 'A'], 'no value: give --value, --value-file, or pipe the value'],
      [[...base, '--name', 'A', '-'], 'too many arguments'],
      [
        ['encrypt', '--key', pub, '--name', 'A', '--value', 'v'],
        "required option '--task-id <id>' not specified",
      ],
      [[...base, '--name', 'A', '--value', 'v', '--bogus'], "unknown option '--bogus' (see encrypt --help)"],
      [['frobnicate'], "unknown command 'frobnicate'"],
    ];
    for (const [argv, text] of cases) {
      const r = await run(argv);
      expect(r.code, argv.join(' ')).toBe(64);
      expect(r.stderr).toContain(text);
      expect(r.stderr).toMatch(/^encrypted-env: [^\n]+\n$/); // one line
      expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    }
  });
});

describe('decrypt', () => {
  let a: string;
  let b: string;
  beforeAll(async () => {
    a = (
      await run(['encrypt', '--key', pub, '--task-id', TASK, '--name', 'A', '--value', 'secret-a'])
    ).stdout.trim();
    b = (
      await run(['encrypt', '--key', pub, '--task-id', TASK, '--name', 'B', '--value', 'secret-b', '--json'])
    ).stdout.trim();
  });

  it('prints names only; values with --show-values', async () => {
    expect(await run(['decrypt', '--key', priv, '--task-id', TASK, a, b])).toEqual({
      code: 0,
      stdout: 'A\nB\n',
      stderr: '',
    });
    expect((await run(['decrypt', '--key', priv, '--task-id', TASK, '--show-values', a])).stdout).toBe(
      'A=secret-a\n',
    );
  });

  it('reads messages from stdin with "-", one per line or as JSON arrays', async () => {
    expect(
      (await run(['decrypt', '--key', priv, '--task-id', TASK, '-'], { stdin: `${a}\n\n${b}\n` })).stdout,
    ).toBe('A\nB\n');
  });

  it('one-line errors: wrong task id, expired, bad base64, public key given; the value never printed', async () => {
    const wrongTask = await run(['decrypt', '--key', priv, '--task-id', 'other', a]);
    expect(wrongTask.code).toBe(1);
    expect(wrongTask.stderr).toMatch(
      /^encrypted-env: the taskId of the env payload does not match the taskId of the task; incidentId: \S+ \[task-id: .*\]\n$/,
    );
    const expired = await run([
      'decrypt',
      '--key',
      priv,
      '--task-id',
      TASK,
      '--now',
      String(NOW + 25 * 3_600_000),
      a,
    ]);
    expect(expired.stderr).toMatch(/^encrypted-env: the end time in the env payload is in the past; .*\n$/);
    const bad = await run(['decrypt', '--key', priv, '--task-id', TASK, 'not*base64']);
    expect(bad.stderr).toMatch(/^encrypted-env: encryptedEnv\[0\] is not base64; .*\n$/);
    const pubKey = await run(['decrypt', '--key', pub, '--task-id', TASK, a]);
    expect(pubKey.stderr).toMatch(
      /^encrypted-env: --key .*: this is a public key, but decrypting needs the private key .*\n$/,
    );
    for (const r of [wrongTask, expired, bad, pubKey]) {
      expect(r.code).toBe(1);
      expect(r.stdout + r.stderr).not.toContain('secret-a');
    }
  });

  it('prints a stack trace only with --debug', async () => {
    const r = await run(['--debug', 'decrypt', '--key', priv, '--task-id', 'other', a]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/\n\s+at /);
    expect(r.stderr).not.toContain('secret-a');
  });
});

describe('--version', () => {
  it('prints the package version, exit 0', async () => {
    const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    for (const flag of ['--version', '-V'])
      expect(await run([flag])).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
  });
});

describe('--help', () => {
  it.each([[[]], [['keygen']], [['encrypt']], [['decrypt']]])(
    '%j --help is complete, with examples',
    async (cmd) => {
      const r = await run([...cmd, '--help']);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('Usage: encrypted-env');
      expect(r.stdout).toContain('Examples:');
      const expected: Record<string, string[]> = {
        '': ['keygen', 'encrypt', 'decrypt', '--debug'],
        keygen: ['--out', '--type', '--user-id', '--passphrase-file', '--force'],
        encrypt: [
          '--key',
          '--task-id',
          '--name',
          '--value',
          '--value-file',
          '--start',
          '--end',
          '--ttl',
          '--json',
        ],
        decrypt: ['--key', '--task-id', '--passphrase-file', '--now', '--show-values', 'message'],
      };
      for (const word of expected[cmd[0] ?? ''] ?? []) expect(r.stdout).toContain(word);
    },
  );
});
