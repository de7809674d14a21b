// GnuPG interop with Debian's gpg (2.2 on bookworm), keys made at test time in a temporary GNUPGHOME.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as openpgp from 'openpgp';
import { decryptEnvVars, readPrivateKey } from './index.js';
import { rsaKeysOf, rsaSessionKeys } from './rsa-session-key.js';
import { main } from './cli-main.js';
import { armorBody, ensureGpg, GpgHome } from '../test-support/gpg.js';
import type { GpgKeyKind } from '../test-support/gpg.js';
import { fakeIo } from '../test-support/io.js';

const TASK = 'fN1SbArXTPSVFNUvaOlinQ';
const NOW = Date.now();
const plain = (name: string) => ({
  messageVersion: 1,
  taskId: TASK,
  startTime: NOW - 60_000,
  endTime: NOW + 3_600_000,
  name,
  value: `value of ${name}\nline 2`,
});

let gpg: GpgHome;
let dir: string;

beforeAll(() => {
  ensureGpg();
  gpg = new GpgHome();
  dir = mkdtempSync(join(tmpdir(), 'encrypted-env-interop-'));
  gpg.genKey('rsa', 'rsa@example.com');
  gpg.genKey('ecc', 'ecc@example.com');
}, 120_000);

afterAll(() => {
  gpg?.remove();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const kinds: [GpgKeyKind, string, RegExp][] = [
  ['rsa', 'rsa@example.com', /^hQGMA/], // old-format PKESK, RSA 3072
  ['ecc', 'ecc@example.com', /^hF4D/], // old-format PKESK, cv25519
];

describe.each(kinds)('GnuPG %s key', (kind, email, prefix) => {
  it('gpg --encrypt (binary, base64) → decryptEnvVars', async () => {
    const message = gpg.encrypt(email, JSON.stringify(plain('FROM_GPG'))).toString('base64');
    expect(message).toMatch(prefix);
    const env = await decryptEnvVars({
      privateKey: gpg.exportSecret(email),
      taskId: TASK,
      env: { A: 'a' },
      encryptedEnv: [message],
      now: NOW,
    });
    expect(env).toEqual({ A: 'a', FROM_GPG: 'value of FROM_GPG\nline 2' });
    // RSA messages from gpg take the native session-key path; ECC ones go through openpgp.js.
    const parsed = await openpgp.readMessage({ binaryMessage: Buffer.from(message, 'base64') });
    const fast = rsaSessionKeys(parsed, await rsaKeysOf(await readPrivateKey(gpg.exportSecret(email))));
    expect(fast).toHaveLength(kind === 'ecc' ? 0 : 1);
  });

  it('gpg --encrypt --armor, armor stripped (PROTOCOLS §5.3) → decryptEnvVars', async () => {
    const armored = gpg.encrypt(email, JSON.stringify(plain('FROM_ARMOR')), { armor: true }).toString();
    expect(armored).toMatch(/^-----BEGIN PGP MESSAGE-----/);
    const env = await decryptEnvVars({
      privateKey: gpg.exportSecret(email),
      taskId: TASK,
      env: {},
      encryptedEnv: [armorBody(armored)],
      now: NOW,
    });
    expect(env).toEqual({ FROM_ARMOR: 'value of FROM_ARMOR\nline 2' });
  });

  it('encrypted-env encrypt → base64 -d → gpg --decrypt gives the same JSON', async () => {
    const pub = join(dir, `${kind}-public.asc`);
    writeFileSync(pub, gpg.exportPublic(email));
    const io = fakeIo({ now: NOW, stdin: 'value of TO_GPG\nline 2\n' });
    const code = await main(
      [
        'encrypt',
        '--key',
        pub,
        '--task-id',
        TASK,
        '--name',
        'TO_GPG',
        '--start',
        String(NOW - 60_000),
        '--ttl',
        '3660s',
      ],
      io.io,
    );
    expect(io.stderr()).toBe('');
    expect(code).toBe(0);
    const line = io.stdout().trim();
    expect(line).toMatch(/^[A-Za-z0-9+/]+=*$/);
    expect(JSON.parse(gpg.decrypt(Buffer.from(line, 'base64')))).toEqual(plain('TO_GPG'));
  });

  it('a passphrase-protected gpg key works through the passphrase option', async () => {
    const protectedEmail = `protected-${email}`;
    gpg.genKey(kind, protectedEmail, 'gpg pass phrase');
    const armored = gpg.exportSecret(protectedEmail, 'gpg pass phrase');
    await expect(readPrivateKey(armored)).rejects.toThrow(/protected by a passphrase/);
    const message = gpg.encrypt(protectedEmail, JSON.stringify(plain('PROTECTED'))).toString('base64');
    const env = await decryptEnvVars({
      privateKey: armored,
      passphrase: 'gpg pass phrase',
      taskId: TASK,
      env: {},
      encryptedEnv: [message],
      now: NOW,
    });
    expect(env).toEqual({ PROTECTED: 'value of PROTECTED\nline 2' });
  }, 60_000);
});

describe('gpg compression', () => {
  it.each([
    ['none', 0],
    ['zip', 1],
    ['zlib', 2],
    ['bzip2', 3],
  ] as const)('--compress-algo %s decrypts', async (compress, algo) => {
    const bytes = gpg.encrypt('ecc@example.com', JSON.stringify(plain('COMPRESSED')), { compress });
    const packets = gpg.listPackets(bytes);
    if (algo === 0) expect(packets).not.toContain('compressed packet');
    else expect(packets).toContain(`compressed packet: algo=${algo}`);
    const env = await decryptEnvVars({
      privateKey: gpg.exportSecret('ecc@example.com'),
      taskId: TASK,
      env: {},
      encryptedEnv: [bytes.toString('base64')],
      now: NOW,
    });
    expect(env).toEqual({ COMPRESSED: 'value of COMPRESSED\nline 2' });
  });

  it.each(['zlib', 'bzip2'] as const)(
    'a %s bomb from gpg (64 MiB in a few KB) is refused as too large, decompression stopped at 1 MiB',
    async (compress) => {
      const bytes = gpg.encrypt(
        'ecc@example.com',
        JSON.stringify({ ...plain('BOMB'), value: 'x'.repeat(64 * 2 ** 20) }),
        {
          compress,
        },
      );
      expect(bytes.length).toBeLessThan(400_000);
      const decrypted = decryptEnvVars({
        privateKey: gpg.exportSecret('ecc@example.com'),
        taskId: TASK,
        env: {},
        encryptedEnv: [bytes.toString('base64')],
        now: NOW,
      });
      await expect(decrypted).rejects.toMatchObject({ rule: 'size', index: 0 });
    },
    60_000,
  );
});

describe('keys made by encrypted-env keygen, used by gpg', () => {
  it.each(['curve25519', 'rsa'])(
    '%s: gpg imports them, encrypts to them, and decrypts our messages',
    async (type) => {
      const out = join(dir, `keygen-${type}`);
      expect(
        await main(
          [
            'keygen',
            '--out',
            out,
            '--type',
            type,
            '--user-id',
            `keygen ${type} <keygen-${type}@example.com>`,
          ],
          fakeIo().io,
        ),
      ).toBe(0);
      gpg.importKey(readFileSync(join(out, 'worker-private.asc'), 'utf8'));
      const email = `keygen-${type}@example.com`;

      const fromGpg = gpg.encrypt(email, JSON.stringify(plain('GPG_TO_KEYGEN'))).toString('base64');
      const env = await decryptEnvVars({
        privateKey: readFileSync(join(out, 'worker-private.asc'), 'utf8'),
        taskId: TASK,
        env: {},
        encryptedEnv: [fromGpg],
        now: NOW,
      });
      expect(env).toEqual({ GPG_TO_KEYGEN: 'value of GPG_TO_KEYGEN\nline 2' });

      const io = fakeIo({ now: NOW });
      const args = [
        'encrypt',
        '--key',
        join(out, 'worker-public.asc'),
        '--task-id',
        TASK,
        '--name',
        'KEYGEN_TO_GPG',
        '--value',
        'value of KEYGEN_TO_GPG\nline 2',
      ];
      expect(
        await main([...args, '--start', String(NOW - 60_000), '--end', String(NOW + 3_600_000)], io.io),
      ).toBe(0);
      expect(JSON.parse(gpg.decrypt(Buffer.from(io.stdout().trim(), 'base64')))).toEqual(
        plain('KEYGEN_TO_GPG'),
      );
    },
    60_000,
  );
});
