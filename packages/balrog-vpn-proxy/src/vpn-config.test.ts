import { describe, expect, it } from 'vitest';
import { InputError } from './input-error.js';
import type { ConfigFs } from './vpn-config.js';
import { findVpnConfig, referencedFiles } from './vpn-config.js';

const CLIENT = `client
dev tun
remote vpn.example.com 1194
ca ca.crt
cert "client.crt"
key /abs/client.key
tls-auth ta.key 1
auth-user-pass creds.txt
<tls-crypt>
-----BEGIN OpenVPN Static key V1-----
key in a block, not a file
-----END OpenVPN Static key V1-----
</tls-crypt>
# ca commented.crt
`;

function memFs(files: Record<string, string>, dirs = ['/vpn']): ConfigFs {
  return {
    isDirectory: (p) => dirs.includes(p),
    list: (d) =>
      Object.keys(files)
        .filter((f) => f.startsWith(`${d}/`))
        .map((f) => f.slice(d.length + 1)),
    read: (p) => files[p] ?? '',
    exists: (p) => p in files || dirs.includes(p),
  };
}
const complete = {
  '/vpn/client.conf': CLIENT,
  '/vpn/ca.crt': '',
  '/vpn/client.crt': '',
  '/abs/client.key': '',
  '/vpn/ta.key': '',
  '/vpn/creds.txt': '',
};

describe('referencedFiles', () => {
  it('lists the files a configuration names, skipping inline blocks and comments', () => {
    expect(referencedFiles(CLIENT)).toEqual([
      { directive: 'ca', path: 'ca.crt' },
      { directive: 'cert', path: 'client.crt' },
      { directive: 'key', path: '/abs/client.key' },
      { directive: 'tls-auth', path: 'ta.key' },
      { directive: 'auth-user-pass', path: 'creds.txt' },
    ]);
  });

  it('ignores [inline] and auth-user-pass without a file', () => {
    expect(referencedFiles('ca [inline]\nauth-user-pass\n')).toEqual([]);
  });
});

describe('findVpnConfig', () => {
  it('finds the only configuration and checks what it names', () => {
    expect(findVpnConfig('/vpn', undefined, memFs(complete))).toEqual({
      file: '/vpn/client.conf',
      dir: '/vpn',
    });
  });

  it('prefers config.conf among several, and honours an explicit choice', () => {
    const files = { ...complete, '/vpn/config.conf': 'client\n', '/vpn/other.ovpn': 'client\n' };
    expect(findVpnConfig('/vpn', undefined, memFs(files)).file).toBe('/vpn/config.conf');
    expect(findVpnConfig('/vpn', 'other.ovpn', memFs(files)).file).toBe('/vpn/other.ovpn');
  });

  it.each([
    [
      'a missing directory',
      '/nope',
      {},
      'No VPN configuration: the directory /nope does not exist; mount your VPN directory there (read-only) or build an image with it (COPY vpn/ /nope/).',
    ],
    [
      'no configuration file',
      '/vpn',
      { '/vpn/ca.crt': '' },
      'No VPN configuration found in /vpn: expected an OpenVPN client file (*.conf or *.ovpn) there with its keys and certificates.',
    ],
    [
      'several configurations',
      '/vpn',
      { '/vpn/a.conf': '', '/vpn/b.ovpn': '' },
      'Several VPN configurations in /vpn (a.conf, b.ovpn); keep one, name one config.conf, or choose with --config.',
    ],
    [
      'a missing key',
      '/vpn',
      { ...complete, '/vpn/ta.key': undefined },
      'VPN configuration /vpn/client.conf names tls-auth file "ta.key", which is missing from /vpn; add it to the VPN directory.',
    ],
  ])('refuses %s with one line', (_what, dir, files, message) => {
    const present = Object.fromEntries(Object.entries(files).filter(([, v]) => v !== undefined)) as Record<
      string,
      string
    >;
    expect(() => findVpnConfig(dir, undefined, memFs(present))).toThrow(new InputError(message));
  });

  it('refuses a chosen configuration that is not there, naming the option and its env', () => {
    expect(() => findVpnConfig('/vpn', 'other.conf', memFs({ '/vpn/client.conf': '' }))).toThrow(
      new InputError(
        'No VPN configuration: /vpn/other.conf does not exist; check --config (env VPN_CONFIG_FILE), a file name inside /vpn.',
      ),
    );
  });
});
