/**
 * @module docker/host-firewall
 * Keeps task containers from this host's own ports (the live log server, anything listening on
 * the task network's gateway): iptables INPUT rules per task network bridge refuse new connections
 * from it, except from the sidecars a feature starts on purpose; replies to connections the host
 * opened (readiness probes, credential updates) still pass. Every rule carries the comment
 * `docker-worker:<network>` so that it is removed with the run, or by the start-up sweep once
 * its bridge is gone.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';

export interface HostFirewall {
  /** Refuses new connections from `bridge` to this host; returns the run's handle. */
  isolate(bridge: string, network: string): Promise<FirewallHandle>;
  /**
   * The same rules for a long-lived network (the worker's shared task network), added only when
   * they are not there yet; never removed by a run (the sweep does, once its bridge is gone).
   */
  isolateShared(bridge: string, network: string): Promise<void>;
  /** Removes the rules of networks whose bridge no longer exists (what a crashed run left). */
  sweep(): Promise<number>;
  /** Throws when the rules cannot be read (no iptables, no permission). */
  probe(): Promise<void>;
}

export interface FirewallHandle {
  /** Lets `ip` (a sidecar) reach this host. */
  allow(ip: string): Promise<void>;
  remove(): Promise<void>;
}

type Run = (args: string[]) => Promise<string>;

const COMMENT = 'docker-worker:';

export function iptablesFirewall(
  run: Run = async (args) => (await promisify(execFile)('iptables', ['-w', ...args])).stdout,
  bridgeExists: (bridge: string) => boolean = (bridge) => existsSync(`/sys/class/net/${bridge}`),
): HostFirewall {
  const tag = (network: string): string[] => ['-m', 'comment', '--comment', `${COMMENT}${network}`];
  const removeMatching = async (match: (rule: string) => boolean): Promise<number> => {
    const rules = (await run(['-S', 'INPUT'])).split('\n').filter((r) => r.includes(COMMENT) && match(r));
    for (const rule of rules) await run(['-D', ...splitRule(rule).slice(1)]);
    return rules.length;
  };
  const insert = async (bridge: string, network: string): Promise<void> => {
    await run(['-I', 'INPUT', '-i', bridge, ...tag(network), '-j', 'REJECT']);
    await run([
      '-I',
      'INPUT',
      '-i',
      bridge,
      '-m',
      'conntrack',
      '--ctstate',
      'ESTABLISHED,RELATED',
      ...tag(network),
      '-j',
      'ACCEPT',
    ]);
  };
  return {
    async isolate(bridge, network) {
      await insert(bridge, network);
      return {
        allow: async (ip) =>
          void (await run(['-I', 'INPUT', '-i', bridge, '-s', ip, ...tag(network), '-j', 'ACCEPT'])),
        remove: async () =>
          void (await removeMatching(
            (r) => r.includes(`"${COMMENT}${network}"`) || r.includes(`${COMMENT}${network} `),
          )),
      };
    },
    async isolateShared(bridge, network) {
      const mine = (await run(['-S', 'INPUT']))
        .split('\n')
        .filter((r) => r.includes(` -i ${bridge} `) && r.includes(`${COMMENT}${network}`));
      const has = (target: string): boolean => mine.some((r) => r.includes(` -j ${target}`));
      if (!has('REJECT') || !has('ACCEPT')) await insert(bridge, network);
    },
    probe: async () => void (await run(['-S', 'INPUT'])),
    sweep: () =>
      removeMatching((rule) => {
        const bridge = / -i (\S+)/.exec(rule)?.[1];
        return bridge !== undefined && !bridgeExists(bridge);
      }),
  };
}

/** `-A INPUT -i br-x -m comment --comment "docker-worker:tc-a-0" -j REJECT` → its words. */
function splitRule(rule: string): string[] {
  return [...rule.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2] ?? '');
}

/**
 * The host firewall the config asks for (`taskContainer.blockHostAccess`), when it can work here
 * (root, with iptables); else undefined, with the reason for the operator log.
 */
export async function hostFirewallFor(config: {
  taskContainer: { blockHostAccess: boolean };
}): Promise<{ firewall?: HostFirewall; reason?: string }> {
  if (!config.taskContainer.blockHostAccess) return { reason: 'taskContainer.blockHostAccess is false' };
  if (process.getuid?.() !== 0) return { reason: 'the worker does not run as root (iptables needs it)' };
  const firewall = iptablesFirewall();
  try {
    await firewall.probe();
  } catch (err) {
    return { reason: `iptables is not usable: ${(err as Error).message.split('\n')[0]}` };
  }
  return { firewall };
}
