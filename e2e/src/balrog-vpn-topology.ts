/**
 * @module e2e/balrog-vpn-topology
 * A real VPN for the balrog suites, all on networks the test creates:
 *
 *   network A (--internal): fake balrog  +  OpenVPN server
 *   network B:              OpenVPN server (alias vpn-server)  +  whatever joins it (the proxy, a task)
 *
 * The VPN's client subnet is a /24 carved out of network A's subnet, so that Docker's isolation
 * rules for internal networks (which drop sources outside the subnet) let tunnel traffic through
 * without NAT: the fake balrog routes that /24 back through the VPN server and sees each VPN
 * client's tunnel address as the source of its requests.
 * Keys and certificates are made at run time (gen-keys in the server image) in a temporary
 * directory that `dispose()` deletes along with every container and network of the session.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type Docker from 'dockerode';
import { buildImage, demux, docker, labels, removeByLabel } from './docker.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const VPN_SERVER_IMAGE = 'docker-worker-test/openvpn-server:latest';
export const FAKE_BALROG_IMAGE = 'docker-worker-test/fake-balrog:latest';
export const PROXY_IMAGE = 'docker-worker/balrog-vpn-proxy:latest';
export const NODE_IMAGE = 'node:20-bookworm-slim';
/** The upstream name the proxy is given; pinned to the fake balrog's address with ExtraHosts. */
export const BALROG_HOST = 'fake-balrog.test';

/** Label holding a digest of an image's build inputs, so an unchanged image is not rebuilt. */
const INPUTS_LABEL = 'org.docker-worker.test-image-inputs';

/**
 * Builds the two test-only images (serialised with every other image build on the machine),
 * skipping one whose build inputs (its folder's files and its base image) are unchanged since
 * the image was built: both balrog suites call this, and a cached `docker build` of the repo
 * root still costs seconds.
 */
export function buildTestImages(): void {
  for (const name of ['openvpn-server', 'fake-balrog']) {
    const tag = `docker-worker-test/${name}:latest`;
    const inputs = imageInputs(name);
    if (dockerOut(['image', 'inspect', '-f', `{{ index .Config.Labels "${INPUTS_LABEL}" }}`, tag]) === inputs)
      continue;
    buildImage({
      tag,
      labels: { [INPUTS_LABEL]: inputs },
      dockerfile: `e2e/images/${name}/Dockerfile`,
      cwd: root,
    });
  }
}

/** sha256 of the files of e2e/images/<name> and the id of the image it is built FROM. */
function imageInputs(name: string): string {
  const dir = join(root, 'e2e/images', name);
  const hash = createHash('sha256');
  for (const f of readdirSync(dir).sort())
    hash
      .update(`${f}\0`)
      .update(readFileSync(join(dir, f)))
      .update('\0');
  const from = /^FROM\s+(\S+)/m.exec(readFileSync(join(dir, 'Dockerfile'), 'utf8'))?.[1] ?? '';
  hash.update(dockerOut(['image', 'inspect', '-f', '{{ .Id }}', from]) ?? 'no base image');
  return hash.digest('hex');
}

/** A docker command's trimmed stdout, or undefined when it fails (e.g. no such image). */
function dockerOut(args: string[]): string | undefined {
  const r = spawnSync('docker', args, { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

export interface VpnTopology {
  session: string;
  networkA: string;
  networkB: string;
  /** Network A's subnet (CIDR), routed through the tunnel. */
  subnetA: string;
  /** The VPN client subnet, e.g. 172.26.254.0/24. */
  vpnSubnet: string;
  vpnServer: Docker.Container;
  balrogIp: string;
  /** Directory holding client.conf + ca/cert/key/ta.key: what a worker mounts at /vpn. */
  clientDir: string;
  /** The temporary directory of every generated key (inside it: clientDir); `dispose()` deletes it. */
  keysDir: string;
  /** A line from the middle of the client's private key, to check that it never shows in output. */
  clientKeyLine: string;
  /** The worker's extraHosts for the proxy: pins BALROG_HOST to the fake balrog. */
  extraHosts: string[];
  dispose(): Promise<void>;
}

export async function startVpnTopology(session: string): Promise<VpnTopology> {
  const tmp = mkdtempSync(join(tmpdir(), 'dw-balrog-vpn-'));
  try {
    const net = (name: string, internal: boolean) =>
      docker.createNetwork({
        Name: `dw-balrog-${name}-${session}`,
        Internal: internal,
        Labels: labels(session),
        CheckDuplicate: true,
      });
    const pki = join(tmp, 'pki');
    const serverDir = join(tmp, 'server');
    const clientDir = join(tmp, 'client');
    for (const d of [pki, serverDir, clientDir]) mkdirSync(d);
    // The networks and the keys do not depend on each other: make them at the same time.
    const [a, b] = await Promise.all([
      net('a', true),
      net('b', false),
      runOnce(session, VPN_SERVER_IMAGE, ['gen-keys', '/out'], [`${pki}:/out`]),
    ]);
    const subnetA =
      ((await a.inspect()) as { IPAM: { Config: Array<{ Subnet: string }> } }).IPAM.Config[0]?.Subnet ?? '';
    const vpnSubnet = carveVpnSubnet(subnetA);
    for (const f of ['ca.crt', 'server.crt', 'server.key', 'ta.key'])
      copyFileSync(join(pki, f), join(serverDir, f));
    for (const f of ['ca.crt', 'client.crt', 'client.key', 'ta.key'])
      copyFileSync(join(pki, f), join(clientDir, f));
    // as the image README asks of a VPN directory (openvpn warns about readable keys otherwise)
    for (const f of ['client.key', 'ta.key']) chmodSync(join(clientDir, f), 0o600);
    writeFileSync(join(serverDir, 'server.conf'), serverConf(vpnSubnet, subnetA));
    writeFileSync(join(clientDir, 'client.conf'), CLIENT_CONF);

    const vpnServer = await docker.createContainer({
      Image: VPN_SERVER_IMAGE,
      name: `dw-balrog-vpn-${session}`,
      Labels: labels(session),
      HostConfig: {
        NetworkMode: a.id,
        CapAdd: ['NET_ADMIN'],
        Devices: [{ PathOnHost: '/dev/net/tun', PathInContainer: '/dev/net/tun', CgroupPermissions: 'rwm' }],
        Sysctls: { 'net.ipv4.ip_forward': '1' },
        Binds: [`${serverDir}:/etc/openvpn/server:ro`],
      },
    });
    await b.connect({ Container: vpnServer.id, EndpointConfig: { Aliases: ['vpn-server'] } });
    await vpnServer.start();
    const vpnIpA = await ipOn(vpnServer, a.id);

    const balrog = await docker.createContainer({
      Image: FAKE_BALROG_IMAGE,
      name: `dw-balrog-fake-${session}`,
      Labels: labels(session),
      Env: [`RETURN_ROUTE=${vpnSubnet}`, `RETURN_VIA=${vpnIpA}`],
      HostConfig: { NetworkMode: a.id, CapAdd: ['NET_ADMIN'] },
    });
    await balrog.start();
    const balrogIp = await ipOn(balrog, a.id);
    return {
      session,
      networkA: a.id,
      networkB: b.id,
      subnetA,
      vpnSubnet,
      vpnServer,
      balrogIp,
      clientDir,
      keysDir: tmp,
      clientKeyLine: keyLine(join(clientDir, 'client.key')),
      extraHosts: [`${BALROG_HOST}:${balrogIp}`],
      dispose: async () => {
        await removeByLabel(session);
        rmSync(tmp, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await removeByLabel(session);
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
}

/** A base64 line from the middle of a PEM key. */
function keyLine(path: string): string {
  const lines = readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => /^[A-Za-z0-9+/]{40,}$/.test(l));
  const line = lines[Math.floor(lines.length / 2)];
  if (!line) throw new Error(`${path} does not look like a PEM key`);
  return line;
}

/** The second-to-last /24 of a Docker subnet (Docker hands out addresses from the bottom). */
export function carveVpnSubnet(cidr: string): string {
  const [base, bits] = cidr.split('/');
  const prefix = Number(bits);
  if (!base || !(prefix <= 22))
    throw new Error(`network A's subnet ${cidr} is too small to carve a /24 VPN subnet out of`);
  const n = base.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
  const size = 2 ** (32 - prefix);
  const vpn = n + size - 2 * 256;
  return `${[24, 16, 8, 0].map((s) => Math.floor(vpn / 2 ** s) % 256).join('.')}/24`;
}

function netmask(prefix: number): string {
  const m = 2 ** 32 - 2 ** (32 - prefix);
  return [24, 16, 8, 0].map((s) => Math.floor(m / 2 ** s) % 256).join('.');
}

function serverConf(vpnSubnet: string, subnetA: string): string {
  const [aBase, aBits] = subnetA.split('/');
  return `port 1194
proto tcp-server
dev tun
topology subnet
server ${vpnSubnet.split('/')[0]} 255.255.255.0
push "route ${aBase} ${netmask(Number(aBits))}"
ca ca.crt
cert server.crt
key server.key
dh none
tls-auth ta.key 0
keepalive 2 10
# Several proxies (one per test, or a derived image) share the test's client certificate.
duplicate-cn
verb 3
`;
}

/** A client configuration of the kind a team puts in its VPN directory. */
const CLIENT_CONF = `client
dev tun
proto tcp-client
remote vpn-server 1194
nobind
ca ca.crt
cert client.crt
key client.key
tls-auth ta.key 1
remote-cert-tls server
connect-retry 1 1
verb 3
`;

async function ipOn(container: Docker.Container, networkId: string): Promise<string> {
  const info = await container.inspect();
  const ep = Object.values(info.NetworkSettings.Networks).find((n) => n.NetworkID === networkId);
  if (!ep?.IPAddress) throw new Error(`container ${info.Name} has no address on network ${networkId}`);
  return ep.IPAddress;
}

/** Runs a container to completion (with binds), returns exit code and output, removes it. */
export async function runOnce(
  session: string,
  image: string,
  cmd: string[] | undefined,
  binds: string[] = [],
  extra: Partial<Docker.ContainerCreateOptions> = {},
): Promise<{ exitCode: number; output: string }> {
  const c = await docker.createContainer({
    Image: image,
    Cmd: cmd,
    Labels: labels(session),
    ...extra,
    HostConfig: { Binds: binds, ...extra.HostConfig },
  });
  try {
    await c.start();
    const { StatusCode } = (await c.wait()) as { StatusCode: number };
    const logs = (await c.logs({ stdout: true, stderr: true, follow: false })) as unknown as Buffer;
    const output = demux(logs);
    if (image === VPN_SERVER_IMAGE && StatusCode !== 0) throw new Error(`gen-keys failed: ${output}`);
    return { exitCode: StatusCode, output };
  } finally {
    await c.remove({ force: true }).catch(() => undefined);
  }
}

/** Runs a command in a running container; returns its output. */
export async function execIn(container: Docker.Container, cmd: string[]): Promise<string> {
  const exec = await container.exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({});
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  await new Promise((r) => stream.on('end', r));
  return demux(Buffer.concat(chunks));
}

/**
 * A node script for a client container: fetches each request in turn (retrying while the proxy is
 * not listening yet, up to 90 s) and prints one JSON line per answer: {status, body}.
 */
export function fetchScript(requests: Array<{ url: string; headers?: Record<string, string> }>): string {
  return `
    const reqs = ${JSON.stringify(requests)};
    const until = Date.now() + 90000;
    (async () => {
      for (const r of reqs) {
        for (;;) {
          try {
            const res = await fetch(r.url, { headers: r.headers ?? {} });
            console.log(JSON.stringify({ status: res.status, body: await res.text() }));
            break;
          } catch (e) {
            if (Date.now() > until) { console.log(JSON.stringify({ error: String(e.cause?.code ?? e) })); process.exit(2); }
            await new Promise((ok) => setTimeout(ok, 250));
          }
        }
      }
    })();`;
}
