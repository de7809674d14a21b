/**
 * @module vpn-config
 * Finds the OpenVPN client configuration in the configuration directory (default `/vpn`) and
 * checks that the files it names (ca, cert, key, tls-auth, credentials file, ...) are there,
 * so that a missing file is one clear line instead of an openvpn stack of warnings.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { InputError } from './input-error.js';

/** The file system calls this module needs (real ones by default). */
export interface ConfigFs {
  isDirectory(path: string): boolean;
  list(dir: string): string[];
  read(path: string): string;
  exists(path: string): boolean;
}

export const realConfigFs: ConfigFs = {
  isDirectory: (p) => existsSync(p) && statSync(p).isDirectory(),
  list: (d) => readdirSync(d),
  read: (p) => readFileSync(p, 'utf8'),
  exists: (p) => existsSync(p),
};

/** Directives whose argument is a file openvpn reads (relative to the config directory). */
const FILE_DIRECTIVES = [
  'ca',
  'cert',
  'key',
  'pkcs12',
  'tls-auth',
  'tls-crypt',
  'tls-crypt-v2',
  'secret',
  'auth-user-pass',
  'crl-verify',
  'extra-certs',
  'askpass',
];
/** The original image's file name, preferred when several configurations are present. */
const PREFERRED = 'config.conf';

export interface VpnConfig {
  /** Absolute path of the configuration file. */
  file: string;
  /** The directory openvpn runs in (`--cd`), so relative paths in the file resolve. */
  dir: string;
}

/**
 * @param dir the configuration directory
 * @param name a file name inside `dir` chosen by the operator (`--config`), else it is found:
 *   the only `*.conf`/`*.ovpn` file, or `config.conf` when there are several.
 */
export function findVpnConfig(dir: string, name: string | undefined, fs: ConfigFs = realConfigFs): VpnConfig {
  if (!fs.isDirectory(dir)) {
    throw new InputError(
      `No VPN configuration: the directory ${dir} does not exist; mount your VPN directory there (read-only) or build an image with it (COPY vpn/ ${dir}/).`,
    );
  }
  const file = name ? join(dir, name) : join(dir, pickConfig(dir, fs));
  if (!fs.exists(file))
    throw new InputError(
      `No VPN configuration: ${file} does not exist; check --config (env VPN_CONFIG_FILE), a file name inside ${dir}.`,
    );
  for (const ref of referencedFiles(fs.read(file))) {
    const path = isAbsolute(ref.path) ? ref.path : join(dir, ref.path);
    if (!fs.exists(path)) {
      throw new InputError(
        `VPN configuration ${file} names ${ref.directive} file "${ref.path}", which is missing from ${dir}; add it to the VPN directory.`,
      );
    }
  }
  return { file, dir };
}

function pickConfig(dir: string, fs: ConfigFs): string {
  const candidates = fs
    .list(dir)
    .filter((f) => /\.(conf|ovpn)$/.test(f))
    .sort();
  if (candidates.length === 0) {
    throw new InputError(
      `No VPN configuration found in ${dir}: expected an OpenVPN client file (*.conf or *.ovpn) there with its keys and certificates.`,
    );
  }
  if (candidates.length === 1) return candidates[0] as string;
  if (candidates.includes(PREFERRED)) return PREFERRED;
  throw new InputError(
    `Several VPN configurations in ${dir} (${candidates.join(', ')}); keep one, name one ${PREFERRED}, or choose with --config.`,
  );
}

export interface FileReference {
  directive: string;
  path: string;
}

/** The files a configuration names, skipping inline blocks (`<ca>…</ca>`) and `[inline]`. */
export function referencedFiles(text: string): FileReference[] {
  const refs: FileReference[] = [];
  let inBlock: string | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (inBlock) {
      if (line === `</${inBlock}>`) inBlock = undefined;
      continue;
    }
    const open = /^<([a-z0-9-]+)>$/.exec(line);
    if (open) {
      inBlock = open[1];
      continue;
    }
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const [directive, arg] = splitDirective(line);
    if (!directive || !FILE_DIRECTIVES.includes(directive) || !arg || arg === '[inline]') continue;
    refs.push({ directive, path: arg });
  }
  return refs;
}

function splitDirective(line: string): [string | undefined, string | undefined] {
  const m = /^(\S+)(?:\s+(?:"([^"]*)"|'([^']*)'|(\S+)))?/.exec(line);
  if (!m) return [undefined, undefined];
  return [m[1], m[2] ?? m[3] ?? m[4]];
}
