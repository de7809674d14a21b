/**
 * @module testing/worker-runner
 * `startWorkerRunner(opts)`: what worker-runner does for a static worker with the generic-worker
 * launcher, in-process: registerWorker with the static secret, write the worker's JSON config,
 * start `node <workerPath> run --config <file> --with-worker-runner`, speak the protocol on its
 * stdin/stdout, renew the credentials (reregisterWorker → `new-credentials`) before they expire,
 * relay graceful termination, and removeWorker when the worker exits or sends `shutdown`.
 *
 * @example
 * const runner = await startWorkerRunner({ rootUrl: tc.rootUrl, workerPoolId: 'prov/wt',
 *   workerGroup: 'wg', workerId: 'w1', staticSecret, workerPath: './dist/cli.js' });
 * await runner.waitForMessage('hello');
 * await runner.gracefulTermination(true);
 * await runner.exited; // removeWorker has been called
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import taskcluster from 'taskcluster-client';
import { genericWorkerConfig } from './worker-config.js';
import type { JsonObject } from './worker-config.js';
import { RUNNER_CAPABILITIES, encodeMessage, parseLine } from './worker-protocol.js';
import type { ProtocolMessage } from './worker-protocol.js';

export interface WorkerRunnerOptions {
  rootUrl: string;
  workerPoolId: string;
  workerGroup: string;
  workerId: string;
  staticSecret: string;
  /** Default `static`. */
  providerId?: string;
  /** The worker's entry script, run with `process.execPath`. */
  workerPath: string;
  /** Added to this process's environment for the worker. */
  env?: Record<string, string>;
  /** The runner config's `workerConfig`: the pool's `workerConfig` is merged over it. */
  extraConfig?: JsonObject;
  /** Static provider `providerMetadata`; default loopback values (publicIP/privateIP 127.0.0.1 …). */
  providerMetadata?: JsonObject;
  /** Added to `{cloud: 'static'}` (the config's `workerLocation`, a JSON string). */
  workerLocation?: Record<string, string>;
  /** Where to write the config; default `worker-config.json` in a fresh temp dir (removed by `close`). */
  configFile?: string;
  /** Renew this long before the credentials expire (upstream: 30 min). Default 1800. */
  renewBeforeSeconds?: number;
  /** What the runner offers in `welcome`. Default all of {@link RUNNER_CAPABILITIES}. */
  capabilities?: readonly string[];
}

type WorkerManagerClient = InstanceType<typeof taskcluster.WorkerManager>;
interface Credentials {
  clientId: string;
  accessToken: string;
  certificate?: string;
}

export class WorkerRunner implements AsyncDisposable {
  /** Every protocol message the worker sent, parsed, in order. */
  readonly messages: ProtocolMessage[] = [];
  /** The worker's stdout lines that are not protocol messages. */
  readonly logs: string[] = [];
  /** The worker's stderr lines. */
  readonly stderr: string[] = [];
  /** Problems the runner met (failed reregister, failed removeWorker, no way to renew). */
  readonly errors: Error[] = [];
  /** The worker's exit code (null when killed by a signal), once removeWorker was attempted. */
  readonly exited: Promise<number | null>;
  /** Capabilities both sides listed; empty until `hello`. */
  agreed = new Set<string>();
  credentialsRenewed = 0;
  removed = false;
  credentials: Credentials;

  private readonly hello: Promise<void>;
  private renewTimer: NodeJS.Timeout | undefined;
  private secret: string;
  private removing: Promise<void> | undefined;
  private readonly waiters = new Set<() => void>();

  constructor(
    readonly child: ChildProcess,
    readonly configFile: string,
    private readonly o: WorkerRunnerOptions & { ownDir?: string },
    registration: { credentials: Credentials; secret: string; expires: string },
  ) {
    this.credentials = registration.credentials;
    this.secret = registration.secret;
    let helloReceived: () => void = () => {};
    this.hello = new Promise((resolve) => (helloReceived = resolve));
    const out = createInterface({ input: child.stdout! });
    out.on('line', (line) => {
      const message = parseLine(line);
      if (!message) this.logs.push(line);
      else {
        this.messages.push(message);
        if (message.type === 'hello') {
          const theirs = Array.isArray(message.capabilities) ? (message.capabilities as unknown[]) : [];
          this.agreed = new Set(this.offered.filter((c) => theirs.includes(c)));
          helloReceived();
        } else if (message.type === 'shutdown' && this.agreed.has('shutdown')) void this.remove();
      }
      for (const wake of this.waiters) wake();
    });
    createInterface({ input: child.stderr! }).on('line', (line) => this.stderr.push(line));
    child.stdin!.on('error', () => {}); // the worker may exit with messages unread
    const closed = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
    this.exited = closed.then(async (code) => {
      clearTimeout(this.renewTimer);
      await this.remove();
      for (const wake of this.waiters) wake();
      return code;
    });
    this.send({ type: 'welcome', capabilities: [...this.offered] });
    this.scheduleRenewal(registration.expires);
  }

  private get offered(): readonly string[] {
    return this.o.capabilities ?? RUNNER_CAPABILITIES;
  }

  /** Sends `graceful-termination {finish-tasks}`; refused unless both sides agreed on it. */
  async gracefulTermination(finishTasks: boolean): Promise<void> {
    await this.hello;
    if (!this.agreed.has('graceful-termination'))
      throw new Error('the worker did not agree to graceful-termination');
    this.send({ type: 'graceful-termination', 'finish-tasks': finishTasks });
  }

  /** Resolves with the first message (already received or later) of `type` matching `match`. */
  waitForMessage(
    type: string,
    match: (m: ProtocolMessage) => boolean = () => true,
    timeoutMs = 10_000,
  ): Promise<ProtocolMessage> {
    return this.waitFor(
      () => this.messages.find((m) => m.type === type && match(m)),
      `message ${type}`,
      timeoutMs,
    );
  }

  /** Resolves with the first log line matching `pattern`. */
  waitForLog(pattern: RegExp, timeoutMs = 10_000): Promise<string> {
    return this.waitFor(() => this.logs.find((l) => pattern.test(l)), `log ${pattern.toString()}`, timeoutMs);
  }

  /** Kills the worker if it still runs, waits for it, removes the temp dir the runner made. */
  async close(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    await this.exited;
    if (this.o.ownDir) rmSync(this.o.ownDir, { recursive: true, force: true });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private send(message: ProtocolMessage): void {
    if (this.child.stdin?.writable) this.child.stdin.write(encodeMessage(message));
  }

  private waitFor<T>(find: () => T | undefined, what: string, timeoutMs: number): Promise<T> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = find();
        if (found === undefined && this.child.exitCode === null && this.child.signalCode === null) return;
        this.waiters.delete(check);
        clearTimeout(timer);
        if (found === undefined) reject(new Error(`worker exited before ${what}`));
        else resolve(found);
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`timed out waiting for ${what}`));
      }, timeoutMs);
      this.waiters.add(check);
      check();
    });
  }

  private client(credentials?: Credentials): WorkerManagerClient {
    return new taskcluster.WorkerManager({
      rootUrl: this.o.rootUrl,
      retries: 0,
      ...(credentials ? { credentials } : {}),
    });
  }

  private scheduleRenewal(expires: string): void {
    const renewBefore = (this.o.renewBeforeSeconds ?? 1800) * 1000;
    const delay = Math.max(0, Date.parse(expires) - Date.now() - renewBefore);
    this.renewTimer = setTimeout(() => void this.renew(), delay);
    this.renewTimer.unref();
  }

  /** As `RegistrationManager`: new-credentials if agreed, else graceful-termination, else an error. */
  private async renew(): Promise<void> {
    await this.hello;
    if (this.removing) return;
    if (!this.agreed.has('new-credentials')) {
      if (this.agreed.has('graceful-termination'))
        this.send({ type: 'graceful-termination', 'finish-tasks': false });
      else this.errors.push(new Error('credentials expiring, but no way to tell the worker'));
      return;
    }
    try {
      const res = await this.client(this.credentials).reregisterWorker({
        workerPoolId: this.o.workerPoolId,
        workerGroup: this.o.workerGroup,
        workerId: this.o.workerId,
        secret: this.secret,
      });
      this.credentials = res.credentials;
      this.secret = res.secret;
      this.credentialsRenewed += 1;
      this.scheduleRenewal(res.expires);
      this.send({
        type: 'new-credentials',
        'client-id': res.credentials.clientId,
        'access-token': res.credentials.accessToken,
        ...(res.credentials.certificate ? { certificate: res.credentials.certificate } : {}),
      });
    } catch (err) {
      this.errors.push(err as Error);
      if (this.agreed.has('graceful-termination'))
        this.send({ type: 'graceful-termination', 'finish-tasks': false });
    }
  }

  private remove(): Promise<void> {
    this.removing ??= (async () => {
      clearTimeout(this.renewTimer);
      try {
        await this.client(this.credentials).removeWorker(
          this.o.workerPoolId,
          this.o.workerGroup,
          this.o.workerId,
        );
        this.removed = true;
      } catch (err) {
        this.errors.push(err as Error);
      }
    })();
    return this.removing;
  }
}

const DEFAULT_METADATA = (workerId: string): JsonObject => ({
  'public-ipv4': '127.0.0.1',
  'local-ipv4': '127.0.0.1',
  'instance-type': 'static',
  'instance-id': workerId,
  region: 'local',
  'availability-zone': 'local',
});

/** Registers the worker, writes its config and starts it (see the module comment). */
export async function startWorkerRunner(opts: WorkerRunnerOptions): Promise<WorkerRunner> {
  const { workerPoolId, workerGroup, workerId } = opts;
  const wm = new taskcluster.WorkerManager({ rootUrl: opts.rootUrl, retries: 0 });
  const reg = await wm.registerWorker({
    workerPoolId,
    providerId: opts.providerId ?? 'static',
    workerGroup,
    workerId,
    workerIdentityProof: { staticSecret: opts.staticSecret },
    systemBootTime: new Date(Date.now() - process.uptime() * 1000).toJSON(),
  });
  const config = genericWorkerConfig({
    rootUrl: opts.rootUrl,
    workerPoolId,
    workerGroup,
    workerId,
    credentials: reg.credentials,
    base: opts.extraConfig ?? {},
    poolConfig: reg.workerConfig,
    providerMetadata: opts.providerMetadata ?? DEFAULT_METADATA(workerId),
    workerLocation: opts.workerLocation ?? {},
  });
  const ownDir = opts.configFile ? undefined : mkdtempSync(join(tmpdir(), 'worker-runner-'));
  const configFile = opts.configFile ?? join(ownDir!, 'worker-config.json');
  writeFileSync(configFile, JSON.stringify(config, null, 2), { mode: 0o600 });
  const child = spawn(
    process.execPath,
    [opts.workerPath, 'run', '--config', configFile, '--with-worker-runner'],
    {
      env: { ...process.env, ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  return new WorkerRunner(child, configFile, { ...opts, ...(ownDir ? { ownDir } : {}) }, reg);
}
