import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TaskError } from '../errors.js';
import { runTask } from '../task-run.js';
import { FakeDocker } from '../testing/fake-docker.js';
import { fakeRun, fakeTask } from '../testing/fake-run.js';
import { BALROG_VPN_PROXY_SCOPE, balrogVPNProxy } from './balrog-vpn-proxy.js';

const IMAGE = 'docker-worker/balrog-vpn-proxy:latest';
const vpnDir = mkdtempSync(join(tmpdir(), 'balrog-vpn-dir-'));
const balrog = {
  vpnConfigDir: vpnDir,
  proxiedServer: 'https://balrog.example',
  extraHosts: ['balrog.example:10.8.81.74'],
  probe: { attempts: 3, intervalMs: 500 },
};
const requested = { payload: { features: { balrogVPNProxy: true } }, scopes: [BALROG_VPN_PROXY_SCOPE] };

afterAll(() => rmSync(vpnDir, { recursive: true, force: true }));

/** A FakeDocker whose containers print `output` and exit with `exitCode` as soon as they start. */
function sidecarThatExits(output: string, exitCode: number): FakeDocker {
  const docker = new FakeDocker();
  docker.images.add(IMAGE);
  docker.script = { output, exitCode };
  return docker;
}

describe('balrogVPNProxy', () => {
  it('is requested by payload.features.balrogVPNProxy and needs the feature scope', () => {
    expect(balrogVPNProxy.isRequested(fakeTask(requested))).toBe(true);
    expect(balrogVPNProxy.isRequested(fakeTask({ payload: { features: { balrogVPNProxy: false } } }))).toBe(
      false,
    );
    expect(balrogVPNProxy.isRequested(fakeTask())).toBe(false);
    const { run } = fakeRun({ config: { balrog } });
    expect(balrogVPNProxy.requiredScopes?.(run.task, run.config)).toEqual([
      ['docker-worker:feature:balrogVPNProxy'],
    ]);
  });

  it('is enabled only when the worker has a VPN configuration directory', () => {
    expect(balrogVPNProxy.isEnabled(fakeRun({ config: { balrog } }).run.config)).toBe(true);
    expect(
      balrogVPNProxy.isEnabled(
        fakeRun({ config: { balrog: { ...balrog, vpnConfigDir: join(vpnDir, 'absent') } } }).run.config,
      ),
    ).toBe(false);
  });

  it('starts the sidecar as balrog with NET_ADMIN, the tun device, /vpn read-only and the host pins', async () => {
    const docker = sidecarThatExits('', 1);
    const { run } = fakeRun({ docker, config: { balrog }, ...requested });
    await balrogVPNProxy.start(run).catch(() => undefined);
    const [sidecar] = [...docker.containers.values()];
    expect(sidecar?.spec).toMatchObject({
      image: IMAGE,
      aliases: ['balrog'],
      env: { PROXIED_SERVER: 'https://balrog.example', TUNNEL_TIMEOUT: '60' },
      binds: [`${vpnDir}:/vpn:ro`],
      capAdd: ['NET_ADMIN'],
      devices: ['/dev/net/tun'],
      extraHosts: ['balrog.example:10.8.81.74'],
    });
    expect(sidecar?.spec.labels['org.docker-worker.alias']).toBe('balrog');
  });

  it("resolves internal-error with the sidecar's own lines when it exits before it is ready", async () => {
    const line =
      'balrog-vpn-proxy: the VPN tunnel did not come up: openvpn exited with code 1; see the openvpn lines above.';
    const docker = sidecarThatExits(`openvpn: Options error: --ca fails with 'ca.crt'\n${line}\n`, 1);
    const { run, dir } = fakeRun({ docker, config: { balrog }, ...requested });
    const err = await balrogVPNProxy.start(run).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(TaskError);
    expect((err as TaskError).resolution).toBe('internal-error');
    expect((err as TaskError).message).toMatch(
      /^balrogVPNProxy: could not reach https:\/\/balrog\.example through the VPN: the balrog sidecar .* exited with status \d+ before it was ready/,
    );
    // The sidecar's lines reach the task log (the error text may be cut before they are copied).
    await run.liveLog.close();
    expect(readFileSync(join(dir, 'live.log'), 'utf8')).toContain(`[balrog] ${line}`);
    expect([...docker.resources.values()].filter((r) => r.kind === 'container')).toEqual([]);
  });

  it('keeps the VPN keys out of the task log even when the sidecar prints them', async () => {
    const key = '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----';
    writeFileSync(join(vpnDir, 'client.key'), `${key}\n`);
    try {
      const docker = sidecarThatExits(`openvpn: loaded\n${key}\ndone\n`, 1);
      const { run, dir } = fakeRun({ docker, config: { balrog }, ...requested });
      await balrogVPNProxy.start(run).catch(() => undefined);
      await run.liveLog.close();
      const log = readFileSync(join(dir, 'live.log'), 'utf8');
      expect(log).toContain('[balrog] openvpn: loaded');
      expect(log).not.toContain('MIIEvQIBADANBgkqhkiG9w0BAQEFAASC');
    } finally {
      rmSync(join(vpnDir, 'client.key'));
    }
  });

  it('passes resource-unavailable through when the image is missing', async () => {
    const { run } = fakeRun({ config: { balrog }, ...requested });
    await expect(balrogVPNProxy.start(run)).rejects.toMatchObject({ resolution: 'resource-unavailable' });
  });

  it('through the lifecycle: malformed-payload naming the scope when the task lacks it', async () => {
    const docker = sidecarThatExits('', 0);
    const { run } = fakeRun({ docker, config: { balrog }, payload: { features: { balrogVPNProxy: true } } });
    const outcome = await runTask(run, [balrogVPNProxy]);
    expect(outcome).toMatchObject({ state: 'exception', reasonResolved: 'malformed-payload' });
    expect(outcome.error?.message).toBe(
      "Insufficient scopes to use 'balrogVPNProxy'. Try adding docker-worker:feature:balrogVPNProxy to the .scopes array of the task.",
    );
    expect([...docker.containers.values()].some((c) => c.spec.aliases?.includes('balrog'))).toBe(false);
  });

  it("through the lifecycle: the sidecar's lines land in the task log prefixed [balrog]", async () => {
    const docker = sidecarThatExits(
      'balrog-vpn-proxy: No VPN configuration found in /vpn: expected an OpenVPN client file\n',
      1,
    );
    const { run, dir } = fakeRun({ docker, config: { balrog }, ...requested });
    const outcome = await runTask(run, [balrogVPNProxy]);
    expect(outcome).toMatchObject({ state: 'exception', reasonResolved: 'internal-error' });
    await run.liveLog.close();
    const log = readFileSync(join(dir, 'live.log'), 'utf8');
    expect(log).toContain('[balrog] balrog-vpn-proxy: No VPN configuration found in /vpn');
    expect(docker.resources.size).toBe(0);
  });

  it('a tunnel that goes down after the start, while the task container waits for it, is internal-error too', async () => {
    const docker = new FakeDocker();
    docker.images.add(IMAGE);
    docker.script = { output: 'openvpn: connecting\n' }; // runs until told
    const { run, clock } = fakeRun({ docker, config: { balrog }, ...requested });
    const handle = await balrogVPNProxy.start(run);
    const [sidecarId] = [...docker.containers.keys()];
    docker.exit(sidecarId!, 1);
    let err: unknown;
    handle?.ready?.catch((e: unknown) => (err = e));
    for (let i = 0; i < 50 && err === undefined; i++) await clock.advance(500);
    expect(err).toBeInstanceOf(TaskError);
    expect((err as TaskError).resolution).toBe('internal-error');
    expect((err as TaskError).message).toMatch(
      /^balrogVPNProxy: could not reach https:\/\/balrog\.example through the VPN: the balrog sidecar .* exited with status \d+ before it was ready/,
    );
    expect([...docker.resources.values()].filter((r) => r.kind === 'container')).toEqual([]);
  });
});
