/**
 * @module host-checks
 * What openvpn needs from the container: the NET_ADMIN capability (to configure the tun device and
 * its routes) and a usable `/dev/net/tun` (created with `mknod c 10 200` when absent, as the
 * original image's entrypoint did).
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { InputError } from './input-error.js';

/** CAP_NET_ADMIN is capability number 12 (linux/capability.h). */
const CAP_NET_ADMIN = 12n;

/** Reads the effective capability set from a `/proc/<pid>/status` text. */
export function hasNetAdmin(procStatus: string): boolean {
  const m = /^CapEff:\s*([0-9a-f]+)\s*$/im.exec(procStatus);
  if (!m?.[1]) return false;
  return ((BigInt(`0x${m[1]}`) >> CAP_NET_ADMIN) & 1n) === 1n;
}

export function checkNetAdmin(procStatus: string): void {
  if (!hasNetAdmin(procStatus)) {
    throw new InputError(
      'Missing capability NET_ADMIN, which openvpn needs for the tun device and its routes; run the container with --cap-add NET_ADMIN.',
    );
  }
}

/** The device operations `ensureTun` needs (real ones by default). */
export interface TunOps {
  exists(path: string): boolean;
  /** Creates the character device c 10 200; returns an error text when it cannot. */
  mknod(path: string): string | undefined;
  /** Opens the device read-write and closes it again; returns an error code when it cannot. */
  tryOpen(path: string): string | undefined;
}

export const realTunOps: TunOps = {
  exists: (p) => existsSync(p),
  mknod(p) {
    try {
      mkdirSync(dirname(p), { recursive: true });
    } catch (err) {
      return (err as NodeJS.ErrnoException).code ?? String(err);
    }
    const r = spawnSync('mknod', [p, 'c', '10', '200'], { encoding: 'utf8' });
    if (r.error) return r.error.message;
    if (r.status !== 0) return (r.stderr || `mknod exited with ${r.status}`).trim();
    chmodSync(p, 0o666);
    return undefined;
  },
  tryOpen(p) {
    try {
      closeSync(openSync(p, 'r+'));
      return undefined;
    } catch (err) {
      return (err as NodeJS.ErrnoException).code ?? String(err);
    }
  },
};

/** Makes sure `path` (default `/dev/net/tun`) exists and opens; returns true if it created it. */
export function ensureTun(path = '/dev/net/tun', ops: TunOps = realTunOps): boolean {
  let created = false;
  if (!ops.exists(path)) {
    const err = ops.mknod(path);
    if (err) {
      throw new InputError(
        `No ${path} and cannot create it (${err}); run the container with --device /dev/net/tun.`,
      );
    }
    created = true;
  }
  const err = ops.tryOpen(path);
  if (err)
    throw new InputError(`Cannot open ${path} (${err}); run the container with --device /dev/net/tun.`);
  return created;
}

export function readProcStatus(): string {
  return readFileSync('/proc/self/status', 'utf8');
}
