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
  /** Removes every rule of `network` (`docker-worker:<network>`); returns how many. */
  removeNetwork(network: string): Promise<number>;
}

export interface FirewallHandle {
  /** Lets `ip` (a sidecar) reach this host. */
  allow(ip: string): Promise<void>;
  remove(): Promise<void>;
}

type Run = (args: string[]) => Promise<string>;
/** Applies several rule changes (each an iptables argv after `-w`) at once. */
type Batch = (changes: string[][]) => Promise<void>;

const COMMENT = 'docker-worker:';
const iptables: Run = async (args) => (await promisify(execFile)('iptables', ['-w', ...args])).stdout;

/**
 * One `iptables-restore --noflush` for all `changes` (one process instead of one per rule: each
 * costs ~4-6 ms, and a run with a sidecar adds 3 rules and removes them), all or none applied.
 */
const iptablesRestore: Batch = (changes) =>
  new Promise((resolve, reject) => {
    const quote = (a: string): string => (/^[\w.:/,-]+$/.test(a) ? a : `"${a.replace(/(["\\])/g, '\\$1')}"`);
    const text = `*filter\n${changes.map((c) => c.map(quote).join(' ')).join('\n')}\nCOMMIT\n`;
    const child = execFile('iptables-restore', ['-w', '--noflush'], (err) => (err ? reject(err) : resolve()));
    child.stdin?.end(text);
  });

/**
 * `run` and `batch` stand in for iptables in tests; with a `run` of its own and no `batch`, the
 * changes of a batch go through `run` one by one.
 */
export function iptablesFirewall(
  run: Run = iptables,
  bridgeExists: (bridge: string) => boolean = (bridge) => existsSync(`/sys/class/net/${bridge}`),
  batch: Batch = run === iptables
    ? iptablesRestore
    : async (changes) => {
        for (const change of changes) await run(change);
      },
): HostFirewall {
  const tag = (network: string): string[] => ['-m', 'comment', '--comment', `${COMMENT}${network}`];
  // The probe's listing, kept for the first sweep: what it removes (rules of bridges that are gone)
  // does not depend on a fresher one, and a CLI run then starts one iptables process fewer.
  let probed: string | undefined;
  const removeMatching = async (match: (rule: string) => boolean, listing?: string): Promise<number> => {
    const rules = (listing ?? (await run(['-S', 'INPUT'])))
      .split('\n')
      .filter((r) => r.includes(COMMENT) && match(r));
    for (const rule of rules) await run(['-D', ...splitRule(rule).slice(1)]);
    return rules.length;
  };
  /** The fence of `bridge`: new connections refused, replies to the host's own let through. */
  const fence = (bridge: string, network: string): string[][] => [
    ['INPUT', '-i', bridge, ...tag(network), '-j', 'REJECT'],
    [
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
    ],
  ];
  const insert = (rules: string[][]): Promise<void> => batch(rules.map((r) => ['-I', ...r]));
  const removeNetwork = (network: string): Promise<number> =>
    removeMatching((r) => r.includes(`"${COMMENT}${network}"`) || r.includes(`${COMMENT}${network} `));
  return {
    async isolate(bridge, network) {
      const added = fence(bridge, network);
      await insert(added);
      return {
        allow: async (ip) => {
          const rule = ['INPUT', '-i', bridge, '-s', ip, ...tag(network), '-j', 'ACCEPT'];
          await run(['-I', ...rule]);
          added.push(rule);
        },
        // The rules it added, deleted at once; when that fails (one was deleted by hand, say),
        // whatever of this network's is still there.
        remove: async () => {
          await batch(added.map((r) => ['-D', ...r])).catch(() => removeNetwork(network));
        },
      };
    },
    async isolateShared(bridge, network) {
      const mine = (await run(['-S', 'INPUT']))
        .split('\n')
        .filter((r) => r.includes(` -i ${bridge} `) && r.includes(`${COMMENT}${network}`));
      const has = (target: string): boolean => mine.some((r) => r.includes(` -j ${target}`));
      if (!has('REJECT') || !has('ACCEPT')) await insert(fence(bridge, network));
    },
    probe: async () => {
      probed = await run(['-S', 'INPUT']);
    },
    removeNetwork,
    sweep: () => {
      const listing = probed;
      probed = undefined;
      return removeMatching((rule) => {
        const bridge = / -i (\S+)/.exec(rule)?.[1];
        return bridge !== undefined && !bridgeExists(bridge);
      }, listing);
    },
  };
}

/** `-A INPUT -i br-x -m comment --comment "docker-worker:tc-a-0" -j REJECT` → its words. */
function splitRule(rule: string): string[] {
  return [...rule.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2] ?? '');
}

/** A host firewall whose probe was started before it was known to be wanted (the CLI's entry). */
export interface ProbedFirewall {
  firewall: HostFirewall;
  probe: Promise<void>;
}

/**
 * iptables' firewall with its probe under way; a failure of the probe waits for whoever awaits
 * it (`hostFirewallFor` gives the reason), it is never an unhandled rejection.
 */
export function probedFirewall(firewall: HostFirewall = iptablesFirewall()): ProbedFirewall {
  const probe = firewall.probe();
  probe.catch(() => undefined);
  return { firewall, probe };
}

/**
 * The host firewall the config asks for (`taskContainer.blockHostAccess`), when it can work here
 * (root, with iptables); else undefined, with the reason for the operator log. `early`: one whose
 * probe is already running, used instead of a new one.
 */
export async function hostFirewallFor(
  config: { taskContainer: { blockHostAccess: boolean } },
  early?: ProbedFirewall,
): Promise<{ firewall?: HostFirewall; reason?: string }> {
  if (!config.taskContainer.blockHostAccess) return { reason: 'taskContainer.blockHostAccess is false' };
  if (process.getuid?.() !== 0) return { reason: 'the worker does not run as root (iptables needs it)' };
  const { firewall, probe } = early ?? probedFirewall();
  try {
    await probe;
  } catch (err) {
    return { reason: `iptables is not usable: ${(err as Error).message.split('\n')[0]}` };
  }
  return { firewall };
}
