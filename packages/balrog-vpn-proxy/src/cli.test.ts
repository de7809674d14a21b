// The built CLI (dist/cli.js, the package's bin) in a child process: its exit statuses (0 ok,
// 1 runtime failure, 64 usage error, each error one line) and --version. Builds it first.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasNetAdmin, readProcStatus } from './host-checks.js';

const pkgDir = resolve(fileURLToPath(new URL('..', import.meta.url)));
const CLI = join(pkgDir, 'dist/cli.js');
const { version } = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as { version: string };
let vpnDir: string;

beforeAll(() => {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', join(pkgDir, 'tsconfig.json')], { stdio: 'inherit' });
  vpnDir = mkdtempSync(join(tmpdir(), 'balrog-cli-'));
  writeFileSync(join(vpnDir, 'config.conf'), 'client\ndev tun\n');
}, 120_000);
afterAll(() => rmSync(vpnDir, { recursive: true, force: true }));

function cli(args: string[], env: Record<string, string> = {}) {
  const base = { PATH: process.env.PATH ?? '/usr/bin:/bin', PROXIED_SERVER: 'http://balrog.example' };
  const r = spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    env: { ...base, ...env },
    timeout: 30_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('balrog-vpn-proxy CLI', () => {
  it('answers --version with the package version', () => {
    expect(cli(['--version'])).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
  });

  it('lists the exit statuses in --help', () => {
    const r = cli(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Exit status: 0 stopped (SIGTERM), 1 runtime failure');
    expect(r.stdout).toContain('64 usage error');
  });

  it.each([
    [
      'an invalid LOG_LEVEL',
      [],
      { LOG_LEVEL: 'loud' },
      "balrog-vpn-proxy: option '--log-level <level>' value 'loud' from env 'LOG_LEVEL' is invalid. expected one of fatal, error, warn, info, debug, trace, silent (see --help)\n",
    ],
    ['an unknown flag', ['--bogus'], {}, "balrog-vpn-proxy: unknown option '--bogus' (see --help)\n"],
    [
      'no PROXIED_SERVER',
      ['--config-dir', '/nonexistent'],
      { PROXIED_SERVER: '' },
      'balrog-vpn-proxy: Environment variable PROXIED_SERVER must be set (the upstream URL, e.g. https://aus4-admin.mozilla.org).\n',
    ],
  ])('refuses %s with one line and exit 64', (_what, args, env, line) => {
    expect(cli(args, env)).toEqual({ code: 64, stdout: '', stderr: line });
  });

  it.skipIf(!hasNetAdmin(readProcStatus()))(
    'exits 1 when the tunnel never comes up (openvpn exits at once)',
    () => {
      const r = cli(['--config-dir', vpnDir, '--tun-device', '/dev/null', '--openvpn', '/bin/false']);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toMatch(/^balrog-vpn-proxy: .*; see the openvpn lines above\.\n$/);
    },
  );
});
