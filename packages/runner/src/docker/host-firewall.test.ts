import { describe, expect, it } from 'vitest';
import { hostFirewallFor, iptablesFirewall, probedFirewall } from './host-firewall.js';

/** A fake `iptables` keeping INPUT rules as `iptables -S` prints them. */
function fakeIptables() {
  const rules: string[] = [];
  const quote = (a: string): string => (a.includes(':') ? `"${a}"` : a);
  const run = async (args: string[]): Promise<string> => {
    const [op, , ...rest] = args;
    const rule = `-A INPUT ${rest.map(quote).join(' ')}`;
    if (op === '-S') return ['-P INPUT ACCEPT', ...rules].join('\n');
    if (op === '-I') rules.unshift(rule);
    if (op === '-D') {
      const i = rules.indexOf(rule);
      if (i < 0) throw new Error(`iptables: Bad rule: ${rule}`);
      rules.splice(i, 1);
    }
    return '';
  };
  return { rules, run };
}

describe('iptablesFirewall', () => {
  it('refuses new connections from the bridge, lets replies and allowed sidecars through, removes it all', async () => {
    const ipt = fakeIptables();
    const fw = iptablesFirewall(ipt.run, () => true);
    const handle = await fw.isolate('br-abc', 'tc-task-0');
    await handle.allow('172.20.0.2');
    const other = await fw.isolate('br-def', 'tc-task-01');
    expect(ipt.rules).toHaveLength(5);
    const mine = ipt.rules.filter((r) => r.includes('"docker-worker:tc-task-0"'));
    expect(mine).toEqual([
      '-A INPUT -i br-abc -s 172.20.0.2 -m comment --comment "docker-worker:tc-task-0" -j ACCEPT',
      '-A INPUT -i br-abc -m conntrack --ctstate ESTABLISHED,RELATED -m comment --comment "docker-worker:tc-task-0" -j ACCEPT',
      '-A INPUT -i br-abc -m comment --comment "docker-worker:tc-task-0" -j REJECT',
    ]);
    await handle.remove();
    expect(ipt.rules.every((r) => r.includes('tc-task-01'))).toBe(true); // a prefix is not a match
    await other.remove();
    expect(ipt.rules).toEqual([]);
  });

  it('adds a fence in one batch and removes it in one; when a rule went missing, removes what is left', async () => {
    const ipt = fakeIptables();
    const batches: string[][][] = [];
    const batch = async (changes: string[][]): Promise<void> => {
      batches.push(changes);
      for (const c of changes)
        if (
          c[0] === '-D' &&
          !ipt.rules.includes(
            `-A INPUT ${c
              .slice(2)
              .map((a) => (a.includes(':') ? `"${a}"` : a))
              .join(' ')}`,
          )
        )
          throw new Error('iptables-restore: line 2 failed');
      for (const c of changes) await ipt.run(c);
    };
    const fw = iptablesFirewall(ipt.run, () => true, batch);
    const h = await fw.isolate('br-abc', 'tc-task-0');
    expect(batches).toHaveLength(1);
    expect(ipt.rules).toHaveLength(2);
    await h.remove();
    expect(batches).toHaveLength(2);
    expect(ipt.rules).toEqual([]);
    const h2 = await fw.isolate('br-abc', 'tc-task-0');
    await h2.allow('172.20.0.2');
    ipt.rules.splice(
      ipt.rules.findIndex((r) => r.includes(' -j REJECT')),
      1,
    ); // deleted by hand
    await h2.remove();
    expect(ipt.rules).toEqual([]);
  });

  it('sweeps only the rules whose bridge is gone', async () => {
    const ipt = fakeIptables();
    const live = new Set(['br-live']);
    const fw = iptablesFirewall(ipt.run, (b) => live.has(b));
    await fw.isolate('br-live', 'tc-a-0');
    await fw.isolate('br-gone', 'tc-b-0');
    expect(await fw.sweep()).toBe(2);
    expect(ipt.rules.every((r) => r.includes('br-live'))).toBe(true);
  });

  it("uses the probe's listing for the first sweep only", async () => {
    const ipt = fakeIptables();
    const listings: number[] = [];
    const run = async (args: string[]): Promise<string> => {
      if (args[0] === '-S') listings.push(listings.length);
      return ipt.run(args);
    };
    const fw = iptablesFirewall(run, (b) => b !== 'br-gone');
    await fw.isolate('br-gone', 'tc-b-0');
    await fw.probe();
    expect(listings).toHaveLength(1);
    expect(await fw.sweep()).toBe(2); // from the probe's listing: no second `iptables -S`
    expect(listings).toHaveLength(1);
    expect(ipt.rules).toEqual([]);
    await fw.isolate('br-gone', 'tc-c-0');
    expect(await fw.sweep()).toBe(2); // a later sweep lists again
    expect(listings).toHaveLength(2);
  });

  // hostFirewallFor asks for root (iptables needs it) before it looks at the probe.
  it.runIf(process.getuid?.() === 0)(
    "takes a probe started early: its firewall when the probe passed, the probe's reason when not",
    async () => {
      const config = { taskContainer: { blockHostAccess: true } };
      const works = iptablesFirewall(fakeIptables().run, () => true);
      expect((await hostFirewallFor(config, probedFirewall(works))).firewall).toBe(works);
      const broken = iptablesFirewall(async () => {
        throw new Error('iptables: command not found\nmore');
      });
      const early = probedFirewall(broken); // its rejection is held, not unhandled
      await new Promise((r) => setImmediate(r));
      expect(await hostFirewallFor(config, early)).toEqual({
        reason: 'iptables is not usable: iptables: command not found',
      });
      expect(await hostFirewallFor({ taskContainer: { blockHostAccess: false } }, early)).toEqual({
        reason: 'taskContainer.blockHostAccess is false',
      });
    },
  );
});
