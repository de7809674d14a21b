import { describe, expect, it } from 'vitest';
import { openvpnArgs, startOpenvpn } from './openvpn.js';

/** A stand-in for openvpn: a node script that prints the given lines (one per tick), then exits. */
function fakeOpenvpn(lines: string[], exitCode: number, holdOpen = false) {
  const script = `
    const lines = ${JSON.stringify(lines)};
    let i = 0;
    const next = () => {
      if (i < lines.length) { console.log(lines[i++]); setTimeout(next, 5); }
      else if (${holdOpen}) { process.stdin.resume(); setInterval(() => {}, 1000); }
      else process.exit(${exitCode});
    };
    next();`;
  const seen: string[] = [];
  const proc = startOpenvpn({ command: process.execPath, args: ['-e', script], onLine: (l) => seen.push(l) });
  return { proc, seen };
}

describe('startOpenvpn', () => {
  it('builds the openvpn command line', () => {
    expect(openvpnArgs('/vpn/config.conf', '/vpn')).toEqual(['--cd', '/vpn', '--config', '/vpn/config.conf']);
  });

  it('is up after "Initialization Sequence Completed", down on a soft restart, gone on exit', async () => {
    const { proc, seen } = fakeOpenvpn(
      [
        'OpenVPN 2.6.3 x86_64-pc-linux-gnu',
        '2026-11-28 Initialization Sequence Completed',
        '2026-11-28 Connection reset, restarting [0]',
        '2026-11-28 SIGUSR1[soft,connection-reset] received, process restarting',
      ],
      1,
    );
    expect(proc.status()).toEqual({ up: false, state: 'connecting' });
    await proc.waitUntilUp(10_000);
    expect(proc.status()).toEqual({ up: true, state: 'connected' });
    const exit = await proc.exited;
    expect(exit).toEqual({ code: 1, signal: null });
    expect(proc.status()).toEqual({ up: false, state: 'openvpn exited with code 1' });
    expect(seen).toContain('2026-11-28 Connection reset, restarting [0]');
  });

  it('reports the soft-restart reason while openvpn keeps running', async () => {
    const { proc } = fakeOpenvpn(
      ['Initialization Sequence Completed', 'SIGUSR1[soft,ping-restart] received, process restarting'],
      0,
      true,
    );
    await proc.waitUntilUp(10_000);
    await expect.poll(() => proc.status()).toEqual({ up: false, state: 'reconnecting (ping-restart)' });
    proc.stop();
    expect((await proc.exited).signal).toBe('SIGTERM');
    expect(proc.status().state).toBe('openvpn was killed by SIGTERM');
  });

  it('rejects waitUntilUp when openvpn exits before the tunnel is up', async () => {
    const { proc } = fakeOpenvpn(['Options error: --ca fails with ca.crt: No such file'], 1);
    await expect(proc.waitUntilUp(10_000)).rejects.toThrow(
      'the VPN tunnel did not come up: openvpn exited with code 1',
    );
  });

  it('rejects waitUntilUp after the bound, and says what state it was in', async () => {
    const { proc } = fakeOpenvpn(
      ['TCP: connect to [AF_INET]10.0.0.1:1194 failed: Connection refused'],
      0,
      true,
    );
    await expect(proc.waitUntilUp(100)).rejects.toThrow(
      'the VPN tunnel did not come up within 0 s (connecting)',
    );
    proc.stop();
    await proc.exited;
  });

  it('reports an executable that cannot be run', async () => {
    const proc = startOpenvpn({ command: '/nonexistent/openvpn', args: [], onLine: () => undefined });
    await expect(proc.waitUntilUp(10_000)).rejects.toThrow(
      /the VPN tunnel did not come up: openvpn could not start \(spawn \/nonexistent\/openvpn ENOENT\)/,
    );
  });
});
