import { describe, expect, it } from 'vitest';
import type { TunOps } from './host-checks.js';
import { checkNetAdmin, ensureTun, hasNetAdmin } from './host-checks.js';
import { InputError } from './input-error.js';

// Docker's default capability set, and the same with NET_ADMIN (bit 12) added.
const DEFAULT_CAPS = 'Name:\tnode\nCapInh:\t0000000000000000\nCapEff:\t00000000a80425fb\n';
const WITH_NET_ADMIN = 'CapEff:\t00000000a80435fb\n';

describe('NET_ADMIN', () => {
  it('reads bit 12 of CapEff', () => {
    expect(hasNetAdmin(DEFAULT_CAPS)).toBe(false);
    expect(hasNetAdmin(WITH_NET_ADMIN)).toBe(true);
    expect(hasNetAdmin('CapEff:\t000001ffffffffff\n')).toBe(true);
    expect(hasNetAdmin('no caps here')).toBe(false);
  });

  it('refuses a container without it, saying how to mend it', () => {
    expect(() => checkNetAdmin(DEFAULT_CAPS)).toThrow(
      new InputError(
        'Missing capability NET_ADMIN, which openvpn needs for the tun device and its routes; run the container with --cap-add NET_ADMIN.',
      ),
    );
    expect(() => checkNetAdmin(WITH_NET_ADMIN)).not.toThrow();
  });
});

function ops(state: {
  exists: boolean;
  mknodError?: string;
  openError?: string;
}): TunOps & { made: string[] } {
  const made: string[] = [];
  return {
    made,
    exists: () => state.exists,
    mknod: (p) => {
      if (state.mknodError) return state.mknodError;
      made.push(p);
      state.exists = true;
      return undefined;
    },
    tryOpen: () => state.openError,
  };
}

describe('ensureTun', () => {
  it('uses an existing device', () => {
    const o = ops({ exists: true });
    expect(ensureTun('/dev/net/tun', o)).toBe(false);
    expect(o.made).toEqual([]);
  });

  it('creates the device when absent', () => {
    const o = ops({ exists: false });
    expect(ensureTun('/dev/net/tun', o)).toBe(true);
    expect(o.made).toEqual(['/dev/net/tun']);
  });

  it('says so when it cannot create or open it', () => {
    expect(() =>
      ensureTun('/dev/net/tun', ops({ exists: false, mknodError: 'Operation not permitted' })),
    ).toThrow(
      new InputError(
        'No /dev/net/tun and cannot create it (Operation not permitted); run the container with --device /dev/net/tun.',
      ),
    );
    expect(() => ensureTun('/dev/net/tun', ops({ exists: true, openError: 'EPERM' }))).toThrow(
      new InputError('Cannot open /dev/net/tun (EPERM); run the container with --device /dev/net/tun.'),
    );
  });
});
