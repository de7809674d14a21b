/**
 * @module openvpn
 * Runs openvpn as a child process and follows its log to know whether the tunnel is up:
 * "Initialization Sequence Completed" means up; a soft restart (SIGUSR1, "Connection reset",
 * "Restart pause", "Inactivity timeout") means down until it completes again; exiting means down
 * for good. Every output line is handed to `onLine` so the caller can prefix it into its own log.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { TunnelProbe, TunnelStatus } from './tunnel.js';

export interface OpenvpnOptions {
  /** The executable; `openvpn` by default (tests pass a stand-in). */
  command?: string;
  args: string[];
  cwd?: string;
  onLine(line: string): void;
}

export interface OpenvpnExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface OpenvpnProcess extends TunnelProbe {
  /** Resolves the first time the tunnel is up; rejects if openvpn exits first or `timeoutMs` passes. */
  waitUntilUp(timeoutMs: number): Promise<void>;
  /** Settles when the process has exited (never rejects). */
  readonly exited: Promise<OpenvpnExit>;
  /** Asks openvpn to exit (SIGTERM). */
  stop(): void;
}

const UP = /Initialization Sequence Completed/;
const DOWN: Array<[RegExp, (m: RegExpExecArray) => string]> = [
  [/SIGUSR1\[[^,\]]*,([^\]]+)\]/, (m) => `reconnecting (${m[1]})`],
  [/Connection reset, restarting/, () => 'reconnecting (connection reset)'],
  [/Inactivity timeout/, () => 'reconnecting (inactivity timeout)'],
  [/(SIGTERM|SIGINT)\[[^\]]*\] received, process exiting/, (m) => `openvpn is exiting (${m[1]})`],
];

/** `openvpn --cd <dir> --config <file>`: relative paths in the file resolve against `dir`. */
export function openvpnArgs(file: string, dir: string): string[] {
  return ['--cd', dir, '--config', file];
}

export function startOpenvpn(opts: OpenvpnOptions): OpenvpnProcess {
  let status: TunnelStatus = { up: false, state: 'connecting' };
  const upWaiters = new Set<() => void>();
  const child = spawn(opts.command ?? 'openvpn', opts.args, {
    cwd: opts.cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });

  const onLine = (line: string): void => {
    opts.onLine(line);
    if (UP.test(line)) {
      status = { up: true, state: 'connected' };
      for (const w of upWaiters) w();
      return;
    }
    for (const [re, describe] of DOWN) {
      const m = re.exec(line);
      if (m) {
        status = { up: false, state: describe(m) };
        return;
      }
    }
  };
  createInterface({ input: child.stdout }).on('line', onLine);
  createInterface({ input: child.stderr }).on('line', onLine);

  const exited = new Promise<OpenvpnExit>((resolve) => {
    child.on('error', (err) => {
      opts.onLine(`cannot run ${opts.command ?? 'openvpn'}: ${err.message}`);
      status = { up: false, state: `openvpn could not start (${err.message})` };
      resolve({ code: 127, signal: null });
    });
    child.on('exit', (code, signal) => {
      status = {
        up: false,
        state: signal ? `openvpn was killed by ${signal}` : `openvpn exited with code ${code}`,
      };
      resolve({ code, signal });
    });
  });

  return {
    status: () => status,
    exited,
    stop: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    },
    waitUntilUp(timeoutMs) {
      if (status.up) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const settle = (err?: Error): void => {
          clearTimeout(timer);
          upWaiters.delete(onUp);
          if (err) reject(err);
          else resolve();
        };
        const onUp = (): void => settle();
        const timer = setTimeout(
          () =>
            settle(
              new Error(
                `the VPN tunnel did not come up within ${Math.round(timeoutMs / 1000)} s (${status.state})`,
              ),
            ),
          timeoutMs,
        );
        upWaiters.add(onUp);
        void exited.then(() => {
          if (!status.up) settle(new Error(`the VPN tunnel did not come up: ${status.state}`));
        });
      });
    },
  };
}
