/**
 * @module testing/simulated-cloud
 * A simulated Testdroid cloud for tests (exported as `@docker-worker/testdroid-proxy/testing`):
 * an express server on a free port that enforces the OAuth password/refresh grants and Bearer
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
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type NextFunction, type Request, type Response } from 'express';
import { simRoutes } from './sim-routes.js';
import { SimState, type FlashBehaviour, type SimDevice, type SimDeviceSpec, type SimRun, type SimSession } from './sim-state.js';

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
  query: Record<string, unknown>;
  body: Record<string, unknown>;
  status?: number;
}

export interface FailureRule {
  method?: string;
  /** Matched against {@link RecordedCall.path}. */
  path: string | RegExp;
  status?: number;
  times?: number;
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
    return this.calls.filter((c) => c.method === method && (typeof path === 'string' ? c.path === path : path.test(c.path)));
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

  /** @internal express middleware: recording, failure injection, OAuth and Bearer checks. */
  handle(app: express.Express, routes: express.Router): void {
    app.use(express.urlencoded({ extended: false }));
    app.use((req: Request, res: Response, next: NextFunction) => {
      const call: RecordedCall = { method: req.method, path: req.path.replace(/^\//, ''), query: { ...req.query }, body: { ...req.body } };
      this.calls.push(call);
      res.on('finish', () => (call.status = res.statusCode));
      const rule = this.rules.find(
        (r) => r.left > 0 && (!r.method || r.method === req.method) && (typeof r.path === 'string' ? r.path === call.path : r.path.test(call.path)),
      );
      if (this.down || rule) {
        if (rule) rule.left--;
        return void res.status(rule?.status ?? 503).json({ message: 'Simulated failure', statusCode: rule?.status ?? 503 });
      }
      next();
    });
    app.post('/oauth/token', (req, res) => this.token(req, res));
    app.use('/api/v2', (req, res, next) => {
      const bearer = /^Bearer (.+)$/.exec(req.get('authorization') ?? '')?.[1];
      const expiresAt = bearer ? this.tokens.get(bearer) : undefined;
      if (expiresAt === undefined || expiresAt <= this.state.now()) {
        return void res.status(401).json({ error: 'invalid_token', error_description: 'Invalid access token' });
      }
      next();
    });
    app.use('/api/v2', routes);
    app.use((_req, res) => void res.status(404).json({ message: 'Not found', statusCode: 404 }));
  }

  private token(req: Request, res: Response): void {
    const body = (req.body ?? {}) as Record<string, string | undefined>;
    if (body.client_id !== 'testdroid-cloud-api') return void res.status(401).json({ error: 'invalid_client' });
    if (body.grant_type === 'password') {
      if (body.username !== this.opts.username || body.password !== this.opts.password) {
        return void res.status(400).json({ error: 'invalid_grant', error_description: 'Bad credentials' });
      }
    } else if (body.grant_type === 'refresh_token') {
      if (!body.refresh_token || !this.refreshTokens.delete(body.refresh_token)) {
        return void res.status(400).json({ error: 'invalid_grant', error_description: 'Invalid refresh token' });
      }
    } else {
      return void res.status(400).json({ error: 'unsupported_grant_type' });
    }
    const access = randomBytes(16).toString('hex');
    const refresh = randomBytes(16).toString('hex');
    this.tokens.set(access, this.state.now() + this.opts.tokenTtlSec * 1000);
    this.refreshTokens.add(refresh);
    res.json({ access_token: access, token_type: 'bearer', refresh_token: refresh, expires_in: this.opts.tokenTtlSec, scope: 'read write' });
  }
}

export async function startSimulatedCloud(options: SimulatedCloudOptions = {}): Promise<SimulatedCloud> {
  const flash: FlashBehaviour = { waitingMs: 1_000, runningMs: 2_000, rebootMs: 0, fail: false, ...options.flash };
  const state = new SimState(options.now ?? Date.now, flash);
  for (const d of options.devices ?? []) state.addDevice(d);
  const app = express();
  app.disable('x-powered-by');
  const server = createServer(app);
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
  cloud.handle(app, simRoutes(state, { proxyHost: options.proxyHost ?? '10.1.2.9', proxyDelayPolls: options.proxyDelayPolls ?? 0 }));
  return cloud;
}
