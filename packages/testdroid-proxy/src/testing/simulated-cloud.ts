/**
 * @module testing/simulated-cloud
 * A simulated Testdroid cloud for tests (exported as `@docker-worker/testdroid-proxy/testing`):
 * an HTTP server on a free port that enforces the OAuth password/refresh grants and Bearer
 * tokens, keeps devices, label groups, sessions and flash runs (WAITING → RUNNING → FINISHED on
 * its clock), can be told to fail, and records every call so tests can assert that sessions are
 * released.
 *
 * @example
 * await using cloud = await startSimulatedCloud({ devices: [{ type: 'flame', sims: '1', memory: '319', build: 'b1' }] });
 * // ... point the proxy at cloud.url ...
 * expect(cloud.activeSessions()).toHaveLength(0);
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fail, ok, type SimReply, type SimRouter } from './sim-router.js';
import { simRoutes } from './sim-routes.js';
import {
  SimState,
  type FlashBehaviour,
  type SimDevice,
  type SimDeviceSpec,
  type SimRun,
  type SimSession,
} from './sim-state.js';

export type { FlashBehaviour, SimDevice, SimDeviceSpec, SimRun, SimSession };

export interface SimulatedCloudOptions {
  username?: string;
  password?: string;
  devices?: SimDeviceSpec[];
  flash?: Partial<FlashBehaviour>;
  /** Access-token lifetime in seconds (default 3600). */
  tokenTtlSec?: number;
  /** The simulator's clock (default Date.now); share a fake clock with the code under test. */
  now?: () => number;
  /** Listen address (default 127.0.0.1; `0.0.0.0` to be reached from containers). */
  host?: string;
  port?: number;
  /** `host` of the proxies handed out (default 10.1.2.9). */
  proxyHost?: string;
  /** Proxy polls per session and type answered `[]` first (default 0). */
  proxyDelayPolls?: number;
}

export interface RecordedCall {
  method: string;
  /** Path without the leading `/`, e.g. `api/v2/devices` or `oauth/token`. */
  path: string;
  query: Record<string, string | string[]>;
  body: Record<string, string | string[]>;
  status?: number;
}

export interface FailureRule {
  method?: string;
  /** Matched against {@link RecordedCall.path}. */
  path: string | RegExp;
  status?: number;
  times?: number;
  /** The call takes effect, and only then is answered `status`: an answer lost after the work. */
  applied?: boolean;
}

export class SimulatedCloud implements AsyncDisposable {
  readonly calls: RecordedCall[] = [];
  readonly flash: FlashBehaviour;
  private readonly rules: (FailureRule & { left: number })[] = [];
  private readonly tokens = new Map<string, number>();
  private readonly refreshTokens = new Set<string>();
  private down = false;

  constructor(
    readonly state: SimState,
    private readonly server: Server,
    readonly url: string,
    private readonly opts: Required<Pick<SimulatedCloudOptions, 'username' | 'password' | 'tokenTtlSec'>>,
  ) {
    this.flash = state.flash;
  }

  /** The port the simulator listens on. */
  get port(): number {
    return Number(new URL(this.url).port);
  }
  /** The user it accepts: `{ cloudUrl, username, password }`, as `TestdroidClient` takes them. */
  get login(): { cloudUrl: string; username: string; password: string } {
    return { cloudUrl: this.url, username: this.opts.username, password: this.opts.password };
  }
  get devices(): SimDevice[] {
    return this.state.devices;
  }
  get sessions(): SimSession[] {
    return this.state.sessions;
  }
  get runs(): SimRun[] {
    return this.state.runs;
  }
  activeSessions(): SimSession[] {
    return this.state.sessions.filter((s) => s.state === 'active');
  }
  addDevice(spec: SimDeviceSpec): SimDevice {
    return this.state.addDevice(spec);
  }
  /** Calls whose method and path match. */
  callsTo(method: string, path: string | RegExp): RecordedCall[] {
    return this.calls.filter(
      (c) => c.method === method && (typeof path === 'string' ? c.path === path : path.test(c.path)),
    );
  }
  /** The next `times` (default 1) matching calls answer `status` (default 503). */
  failNext(rule: FailureRule): void {
    this.rules.push({ ...rule, left: rule.times ?? 1 });
  }
  /** While down, every call answers 503. */
  setDown(down: boolean): void {
    this.down = down;
  }
  /** Every access token issued so far stops working (refresh tokens still work). */
  expireAccessTokens(): void {
    for (const t of this.tokens.keys()) this.tokens.set(t, 0);
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** @internal Serves one request: recording, failure injection, OAuth and Bearer checks, routes. */
  async serve(req: IncomingMessage, res: ServerResponse, router: SimRouter): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://simulated-cloud');
    const body = new URLSearchParams(await readBody(req));
    const path = url.pathname.replace(/^\//, '');
    const method = req.method ?? 'GET';
    const call: RecordedCall = { method, path, query: record(url.searchParams), body: record(body) };
    this.calls.push(call);
    const reply = this.reply(method, path, url.searchParams, body, req.headers, router);
    call.status = reply.status;
    const text = reply.json === undefined ? '' : JSON.stringify(reply.json);
    res.writeHead(reply.status, text ? { 'content-type': 'application/json' } : {});
    res.end(text);
  }

  private reply(
    method: string,
    path: string,
    query: URLSearchParams,
    body: URLSearchParams,
    headers: IncomingMessage['headers'],
    router: SimRouter,
  ): SimReply {
    const rule = this.rules.find(
      (r) =>
        r.left > 0 &&
        (!r.method || r.method === method) &&
        (typeof r.path === 'string' ? r.path === path : r.path.test(path)),
    );
    if (this.down || rule) {
      if (rule) rule.left--;
      if (rule?.applied) this.handle(method, path, query, body, headers, router);
      return fail(rule?.status ?? 503, 'Simulated failure');
    }
    return this.handle(method, path, query, body, headers, router);
  }

  private handle(
    method: string,
    path: string,
    query: URLSearchParams,
    body: URLSearchParams,
    headers: IncomingMessage['headers'],
    router: SimRouter,
  ): SimReply {
    if (method === 'POST' && path === 'oauth/token') return this.token(body);
    if (!path.startsWith('api/v2/')) return fail(404, 'Not found');
    const bearer = /^Bearer (.+)$/.exec(String(headers.authorization ?? ''))?.[1];
    const expiresAt = bearer ? this.tokens.get(bearer) : undefined;
    if (expiresAt === undefined || expiresAt <= this.state.now()) {
      return { status: 401, json: { error: 'invalid_token', error_description: 'Invalid access token' } };
    }
    this.state.tick();
    return (
      router.handle({ method, path: path.slice('api/v2/'.length), query, body, headers }) ??
      fail(404, 'Not found')
    );
  }

  private token(body: URLSearchParams): SimReply {
    const field = (k: string): string | undefined => body.get(k) ?? undefined;
    const refused = (error: string, description?: string): SimReply => ({
      status: 400,
      json: { error, ...(description ? { error_description: description } : {}) },
    });
    if (field('client_id') !== 'testdroid-cloud-api')
      return { status: 401, json: { error: 'invalid_client' } };
    if (field('grant_type') === 'password') {
      if (field('username') !== this.opts.username || field('password') !== this.opts.password) {
        return refused('invalid_grant', 'Bad credentials');
      }
    } else if (field('grant_type') === 'refresh_token') {
      const refresh = field('refresh_token');
      if (!refresh || !this.refreshTokens.delete(refresh))
        return refused('invalid_grant', 'Invalid refresh token');
    } else {
      return refused('unsupported_grant_type');
    }
    const access = randomBytes(16).toString('hex');
    const refresh = randomBytes(16).toString('hex');
    this.tokens.set(access, this.state.now() + this.opts.tokenTtlSec * 1000);
    this.refreshTokens.add(refresh);
    return ok({
      access_token: access,
      token_type: 'bearer',
      refresh_token: refresh,
      expires_in: this.opts.tokenTtlSec,
      scope: 'read write',
    });
  }
}

function record(params: URLSearchParams): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const key of new Set(params.keys())) {
    const all = params.getAll(key);
    out[key] = all.length === 1 ? (all[0] as string) : all;
  }
  return out;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startSimulatedCloud(options: SimulatedCloudOptions = {}): Promise<SimulatedCloud> {
  const flash: FlashBehaviour = {
    waitingMs: 1_000,
    runningMs: 2_000,
    rebootMs: 0,
    fail: false,
    ...options.flash,
  };
  const state = new SimState(options.now ?? Date.now, flash);
  for (const d of options.devices ?? []) state.addDevice(d);
  const holder: { cloud?: SimulatedCloud } = {};
  const router = simRoutes(state, {
    proxyHost: options.proxyHost ?? '10.1.2.9',
    proxyDelayPolls: options.proxyDelayPolls ?? 0,
  });
  const server = createServer((req, res) => {
    holder.cloud?.serve(req, res, router).catch(() => res.destroy());
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const urlHost = host === '0.0.0.0' ? '127.0.0.1' : host;
  const cloud = new SimulatedCloud(state, server, `http://${urlHost}:${port}/`, {
    username: options.username ?? 'user@example.com',
    password: options.password ?? 'sim-password',
    tokenTtlSec: options.tokenTtlSec ?? 3600,
  });
  holder.cloud = cloud;
  return cloud;
}
