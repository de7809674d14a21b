// Tasks without a sidecar share one long-lived network: the engine's default bridge when dockerd
// keeps containers apart there (--icc=false, as `npm run setup` starts it), else the worker's own
// bridge `docker-worker-<workerId>` with inter-container traffic off. On the real engine: one task
// listens on its address; a second task, on the same network at the same time, cannot connect to
// it, nor to a server on this host's gateway (the host fence, as root). Controls: the host reaches
// the listening task (so it was listening), and the second task reaches its own loopback listener
// (so a closed probe means closed).
import { once } from 'node:events';
import { execFileSync } from 'node:child_process';
import { connect, createServer, type AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { docker, newSession } from './docker.js';
import { RunnerSession } from './runner-harness.js';

const id = newSession();
const session = new RunnerSession(`e2e-net-${id}`);
afterAll(() => session.removeAll());
const node = (script: string) => ['node', '-e', script];
const IMAGE = 'node:20-bookworm-slim';
const PORT = 7000;

/** Listens on PORT; ends when the host says "bye" (or after 120 s, should the test die first). */
const LISTENER = `
const s = require('net').createServer((c) => c.on('data', (d) => {
  if (String(d).startsWith('bye')) { c.end('hi\\n'); s.close(); console.log('LISTENER done'); }
}));
s.listen(${PORT}, '0.0.0.0', () => console.log('LISTENER up'));
setTimeout(() => process.exit(3), 120000).unref();`;

/** `PROBE <name> <result>` for a TCP connect to host:port within 3 s. */
const probe = (targets: [string, string, number][]) => `
const net = require('net');
const l = require('fs').readFileSync('/proc/net/route', 'utf8').split('\\n').find((x) => x.split('\\t')[1] === '00000000');
const h = l.split('\\t')[2];
const gw = [3, 2, 1, 0].map((i) => parseInt(h.substr(i * 2, 2), 16)).join('.');
const own = net.createServer((c) => c.end()).listen(7001, '127.0.0.1');
const one = ([name, host, port]) => new Promise((done) => {
  const s = net.connect(port, host === 'GATEWAY' ? gw : host);
  const say = (r) => { console.log('PROBE ' + name + ' ' + r); s.destroy(); done(); };
  s.setTimeout(3000, () => say('timeout'));
  s.on('connect', () => say('OPEN'));
  s.on('error', (e) => say(e.code));
});
(async () => { for (const t of ${JSON.stringify(targets)}) await one(t); own.close(); })();`;

async function running(taskId: string): Promise<{ network: string; ip: string }> {
  const filters = JSON.stringify({ label: [`org.docker-worker.task-id=${taskId}`], status: ['running'] });
  for (;;) {
    const [c] = await docker.listContainers({ filters });
    const [network, settings] = Object.entries(c?.NetworkSettings?.Networks ?? {})[0] ?? [];
    if (network && settings?.IPAddress) return { network, ip: settings.IPAddress };
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('the network of tasks without a sidecar', () => {
  it("keeps them from each other and from this host's ports", async () => {
    const host = createServer((c) => c.end('hello from the host\n')).listen(0, '0.0.0.0');
    await once(host, 'listening');
    const hostPort = (host.address() as AddressInfo).port;
    try {
      const a = session.start({ payload: { image: IMAGE, maxRunTime: 120, command: node(LISTENER) } });
      const { network, ip } = await running(a.taskId);
      const bridge = await docker.getNetwork('bridge').inspect();
      const engineKeepsApart = bridge.Options?.['com.docker.network.bridge.enable_icc'] === 'false';
      expect(network).toBe(engineKeepsApart ? 'bridge' : `docker-worker-${session.workerId}`);

      const b = await session.run({
        payload: {
          image: IMAGE,
          maxRunTime: 60,
          command: node(
            probe([
              ['own-loopback', '127.0.0.1', 7001],
              ['other-task', ip, PORT],
              ['host-port', 'GATEWAY', hostPort],
            ]),
          ),
        },
      });
      expect(b.code).toBe(0);
      expect(b.stdout).toMatch(/^PROBE own-loopback OPEN$/m);
      expect(b.stdout).toMatch(/^PROBE other-task (timeout|EHOSTUNREACH|ECONNREFUSED)$/m);
      if (process.getuid?.() === 0) {
        expect(b.stdout).toMatch(/^PROBE host-port (timeout|EHOSTUNREACH|ECONNREFUSED)$/m);
        const rules = execFileSync('iptables', ['-w', '-S', 'INPUT'], { encoding: 'utf8' });
        expect(rules).toContain(`docker-worker:${network}`);
      }

      // The control: the host reaches the listening task, which then ends.
      const s = connect(PORT, ip);
      await once(s, 'connect');
      s.write('bye\n');
      const [reply] = (await once(s, 'data')) as [Buffer];
      expect(String(reply)).toBe('hi\n');
      s.destroy();
      const ra = await a.done;
      expect(ra.code).toBe(0);
      expect(ra.stdout).toMatch(/^LISTENER done$/m);
    } finally {
      host.close();
    }
  });
});
