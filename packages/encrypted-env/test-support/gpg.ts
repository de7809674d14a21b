/**
 * A throw-away GnuPG home for interop tests: keys are made at test time, never committed.
 * `ensureGpg()` installs Debian's gnupg when gpg is missing and we are root; otherwise it fails loudly.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function ensureGpg(): void {
  if (spawnSync('gpg', ['--version']).status === 0) return;
  if (process.getuid?.() !== 0)
    throw new Error('gpg is missing; install it (apt-get install -y gnupg) to run the GnuPG interop tests');
  execFileSync('apt-get', ['update'], { stdio: 'ignore' });
  execFileSync('apt-get', ['install', '-y', '--no-install-recommends', 'gnupg'], {
    stdio: 'ignore',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
}

export type GpgKeyKind = 'rsa' | 'ecc';

export class GpgHome {
  readonly dir = mkdtempSync(join(tmpdir(), 'encrypted-env-gnupg-'));

  /** Runs gpg in this home; throws with gpg's stderr on failure. */
  run(args: string[], input?: string | Buffer): Buffer {
    const r = spawnSync('gpg', ['--batch', '--no-tty', '--quiet', ...args], {
      env: { ...process.env, GNUPGHOME: this.dir },
      ...(input === undefined ? {} : { input }),
      maxBuffer: 16 << 20,
    });
    if (r.status !== 0) throw new Error(`gpg ${args.join(' ')} failed (${r.status}): ${r.stderr.toString()}`);
    return r.stdout;
  }

  /**
   * A key as people make them with `gpg --quick-gen-key`: `ecc` = ed25519 + cv25519 subkey
   * (gpg's future-default), `rsa` = RSA 3072 primary + RSA 3072 encryption subkey.
   */
  genKey(kind: GpgKeyKind, email: string, passphrase = ''): void {
    const pass = ['--pinentry-mode', 'loopback', '--passphrase', passphrase];
    const uid = `${kind} test <${email}>`;
    if (kind === 'ecc') this.run([...pass, '--quick-gen-key', uid, 'future-default', 'default', 'never']);
    else {
      this.run([...pass, '--quick-gen-key', uid, 'rsa3072', 'sign', 'never']);
      this.run([...pass, '--quick-add-key', this.fingerprint(email), 'rsa3072', 'encr', 'never']);
    }
  }

  fingerprint(email: string): string {
    const line = this.run(['--with-colons', '--list-keys', exact(email)])
      .toString()
      .split('\n')
      .find((l) => l.startsWith('fpr:'));
    const fpr = line?.split(':')[9];
    if (!fpr) throw new Error(`no fingerprint for ${email}`);
    return fpr;
  }

  exportPublic(email: string): string {
    return this.run(['--armor', '--export', exact(email)]).toString();
  }

  exportSecret(email: string, passphrase = ''): string {
    return this.run([
      '--pinentry-mode',
      'loopback',
      '--passphrase',
      passphrase,
      '--armor',
      '--export-secret-keys',
      exact(email),
    ]).toString();
  }

  importKey(armored: string): void {
    this.run(['--import'], armored);
  }

  /** `gpg --encrypt` of `plaintext` to `email`: binary, or armored with `armor`. */
  encrypt(
    email: string,
    plaintext: string,
    opts: { armor?: boolean; compress?: 'none' | 'zip' | 'zlib' | 'bzip2' } = {},
  ): Buffer {
    const extra = [
      ...(opts.armor ? ['--armor'] : []),
      ...(opts.compress ? ['--compress-algo', opts.compress] : []),
    ];
    return this.run(
      ['--trust-model', 'always', ...extra, '--recipient', exact(email), '--encrypt'],
      plaintext,
    );
  }

  /** gpg's packet dump of a message (`--list-packets`). */
  listPackets(message: Buffer): string {
    return this.run(['--list-packets'], message).toString();
  }

  decrypt(message: Buffer, passphrase = ''): string {
    return this.run(
      ['--pinentry-mode', 'loopback', '--passphrase', passphrase, '--decrypt'],
      message,
    ).toString();
  }

  /** Stops this home's gpg-agent and removes the directory. */
  remove(): void {
    spawnSync('gpgconf', ['--kill', 'all'], { env: { ...process.env, GNUPGHOME: this.dir } });
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** PROTOCOLS.md §5.3: an armored message's body without header, blank line, CRC line and END line. */
export function armorBody(armored: string): string {
  const lines = armored.trim().split(/\r?\n/);
  const blank = lines.indexOf('');
  return lines
    .slice(blank + 1, -1)
    .filter((l) => !/^=[A-Za-z0-9+/]{4}$/.test(l))
    .join('');
}

/** `<email>` matches that address exactly (a bare address also matches `protected-<address>`). */
function exact(email: string): string {
  return `<${email}>`;
}
