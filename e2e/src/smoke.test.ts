// The foundation's smoke test: a per-test network, a service container reached by its alias
// from a second container, and nothing left behind afterwards.
import { afterAll, describe, expect, it } from 'vitest';
import { docker, labels, newSession, removeByLabel, runToEnd, TEST_LABEL } from './docker.js';

const IMAGE = 'node:20-bookworm-slim';
const session = newSession();

describe('engine smoke test', () => {
  afterAll(async () => {
    await removeByLabel(session);
    const left = await docker.listContainers({
      all: true,
      filters: JSON.stringify({ label: [`${TEST_LABEL}=${session}`] }),
    });
    expect(left).toHaveLength(0);
  });

  it('reaches a container by its network alias from another container on the same network', async () => {
    const network = await docker.createNetwork({ Name: `dw-smoke-${session}`, Labels: labels(session) });
    const server = await docker.createContainer({
      Image: IMAGE,
      Cmd: ['node', '-e', "require('http').createServer((q,r)=>r.end('pong from '+q.url)).listen(80)"],
      Labels: labels(session),
      HostConfig: { NetworkMode: network.id },
      NetworkingConfig: { EndpointsConfig: { [network.id]: { Aliases: ['smoke-service'] } } },
    });
    await server.start();
    const client = `
      const until = Date.now() + 20000;
      (async function poll() {
        try { const r = await fetch('http://smoke-service/ping'); console.log(await r.text()); }
        catch (e) { if (Date.now() > until) { console.error(String(e)); process.exit(1); } setTimeout(poll, 100); }
      })();`;
    const { exitCode, output } = await runToEnd({
      image: IMAGE,
      cmd: ['node', '-e', client],
      session,
      network: network.id,
    });
    expect(output.trim()).toBe('pong from /ping');
    expect(exitCode).toBe(0);
  });

  it('cannot reach the alias from a container on another network', async () => {
    const other = await docker.createNetwork({ Name: `dw-smoke-other-${session}`, Labels: labels(session) });
    const { exitCode, output } = await runToEnd({
      image: IMAGE,
      cmd: [
        'node',
        '-e',
        "fetch('http://smoke-service/').then(()=>process.exit(0),e=>{console.log(e.cause?.code??e.message);process.exit(3)})",
      ],
      session,
      network: other.id,
    });
    expect(exitCode).toBe(3);
    expect(output).toMatch(/ENOTFOUND|EAI_AGAIN/);
  });
});
