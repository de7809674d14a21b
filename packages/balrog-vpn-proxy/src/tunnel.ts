/**
 * @module tunnel
 * What the forwarder and the health check know about the VPN tunnel: one injected probe.
 * The real probe is fed by the openvpn process (see `openvpn.ts`); tests use `staticTunnel`.
 */

export interface TunnelStatus {
  /** true once openvpn reported "Initialization Sequence Completed" and has not lost it since. */
  up: boolean;
  /** Human words for the current state, e.g. "connected", "openvpn exited with code 1". */
  state: string;
}

export interface TunnelProbe {
  status(): TunnelStatus;
}

/** A probe whose answer the caller sets (tests, and the CLI before openvpn starts). */
export function staticTunnel(initial: TunnelStatus): TunnelProbe & { set(status: TunnelStatus): void } {
  let current = initial;
  return {
    status: () => current,
    set(status) {
      current = status;
    },
  };
}
