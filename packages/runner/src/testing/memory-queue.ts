/**
 * @module testing/memory-queue
 * An in-memory queue for queue-mode unit tests. `MemoryQueue` records every call (with the
 * credentials of the client that made it and the clock's time), hands out the claims a test
 * queued, answers a reclaim with a fresh takenUntil and new task credentials (or whatever the test
 * scripted: an HTTP error with `statusCode`, a network error with `code`), and records reports
 * and created artifacts. `memory.clients` is a `TaskclusterClients` over it: `queue(credentials)`
 * is a client bound to those credentials, `uploadObject` reads and records the bytes.
 *
 * @example
 * const memory = new MemoryQueue({ now: () => clock.now() });
 * const claim = memory.addClaim({ payload: { image: 'debian:bookworm-slim', command: ['true'] } });
 * memory.next('reclaimTask', httpError(409));
 * await memory.waitFor('reclaimTask');
 */
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Credentials } from '../features/feature.js';
import type {
  Claim,
  CreateArtifactRequest,
  CreateArtifactResponse,
  ObjectUpload,
  QueueClient,
  Reclaim,
  TaskclusterClients,
  TaskCredentials,
} from '../worker/taskcluster.js';

/** What each recorded method answers. */
export interface QueueAnswers {
  claimWork: { tasks: Claim[] };
  reclaimTask: Reclaim;
  reportCompleted: unknown;
  reportFailed: unknown;
  reportException: unknown;
  createArtifact: CreateArtifactResponse;
  finishArtifact: unknown;
  uploadObject: void;
}
export type QueueMethod = keyof QueueAnswers;

/** A scripted answer: a value, an error to throw, or a function of the call giving either (may wait). */
export type Answer<T> = T | Error | ((call: QueueCall) => T | Promise<T>);

export interface QueueCall {
  method: QueueMethod;
  args: unknown[];
  /** The credentials of the client that made the call (upload credentials for uploadObject). */
  credentials: Credentials;
  /** The clock's time when it was made. */
  at: number;
  /** The error it was answered with, if any. */
  error?: unknown;
}

export interface RecordedReport {
  taskId: string;
  runId: string;
  /** `completed`, `failed` or `exception/<reason>`, as `reportOutcome` names them. */
  report: string;
  credentials: Credentials;
}

export interface CreatedArtifact {
  taskId: string;
  runId: string;
  name: string;
  body: CreateArtifactRequest;
  credentials: Credentials;
}

export interface ObjectUploadRecord {
  upload: ObjectUpload;
  bytes: Buffer;
  sha256: string;
}

/** An error as taskcluster-client throws it for an HTTP answer. */
export function httpError(statusCode: number, message = `HTTP ${statusCode}`): Error {
  return Object.assign(new Error(message), { statusCode });
}

/** An error as a request that got no answer fails. */
export function networkError(code = 'ECONNRESET'): Error {
  return Object.assign(new Error(`socket hang up (${code})`), { code });
}

export interface MemoryQueueOptions {
  /** The time calls are stamped with and takenUntil is counted from (default Date.now). */
  now?: () => number;
  /** How long a claim or reclaim holds the run (default 20 minutes). */
  claimTimeoutMs?: number;
  /** Where an s3 artifact is PUT (default an unreachable loopback URL). */
  putUrl?: (taskId: string, runId: string, name: string) => string;
  rootUrl?: string;
}

export class MemoryQueue {
  readonly calls: QueueCall[] = [];
  readonly reports: RecordedReport[] = [];
  readonly artifacts: CreatedArtifact[] = [];
  readonly uploads: ObjectUploadRecord[] = [];
  /** Claims handed out by the next claimWork calls, oldest first. */
  readonly pending: Claim[] = [];
  /** A TaskclusterClients over this queue. */
  readonly clients: TaskclusterClients;
  private readonly scripts = new Map<QueueMethod, Answer<unknown>[]>();
  private readonly events = new EventEmitter().setMaxListeners(0);
  private readonly now: () => number;
  private readonly claimTimeoutMs: number;
  private serial = 0;

  constructor(private readonly opts: MemoryQueueOptions = {}) {
    this.now = opts.now ?? Date.now;
    this.claimTimeoutMs = opts.claimTimeoutMs ?? 20 * 60_000;
    const rootUrl = opts.rootUrl ?? 'https://tc.example.com';
    this.clients = {
      queue: (credentials) => this.client(credentials),
      uploadObject: (upload) =>
        this.answer('uploadObject', [upload], upload.credentials, async () => {
          const chunks: Buffer[] = [];
          for await (const chunk of await upload.streamFactory()) chunks.push(Buffer.from(chunk as Buffer));
          const bytes = Buffer.concat(chunks);
          this.uploads.push({ upload, bytes, sha256: createHash('sha256').update(bytes).digest('hex') });
        }),
      artifactUrl: (taskId, runId, name) =>
        `${rootUrl}/api/queue/v1/task/${taskId}/runs/${runId}/artifacts/${encodeURIComponent(name)}`,
    };
  }

  /** Queues a claim for a task with `payload` (and returns it); the next claimWork hands it out. */
  addClaim(over: { payload?: Record<string, unknown>; taskId?: string; runId?: number } = {}): Claim {
    const n = ++this.serial;
    const taskId = over.taskId ?? `task${String(n).padStart(18, '0')}AA`;
    const now = this.now();
    const claim: Claim = {
      status: { taskId, retriesLeft: 5 },
      runId: over.runId ?? 0,
      workerGroup: 'test-group',
      workerId: 'test-worker',
      takenUntil: new Date(now + this.claimTimeoutMs).toISOString(),
      task: {
        scopes: [],
        payload: over.payload ?? { image: 'debian:bookworm-slim', command: ['true'], maxRunTime: 3600 },
        created: new Date(now).toISOString(),
        deadline: new Date(now + 86_400_000).toISOString(),
        expires: new Date(now + 30 * 86_400_000).toISOString(),
      },
      credentials: this.taskCredentials(`claim-${n}`),
    };
    this.pending.push(claim);
    return claim;
  }

  /** The next calls of `method` get these answers, in order; later calls get the default again. */
  next<M extends QueueMethod>(method: M, ...answers: Answer<QueueAnswers[M]>[]): void {
    const script = this.scripts.get(method) ?? [];
    script.push(...answers);
    this.scripts.set(method, script);
  }

  /** Every call of `method` so far. */
  callsOf(method: QueueMethod): QueueCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  /**
   * Resolves once `method` has been called `count` times in all (and the caller has run on to its
   * next wait): tests await this instead of polling.
   */
  waitFor(method: QueueMethod, count = 1): Promise<QueueCall> {
    return new Promise((resolve) => {
      const check = (): void => {
        const call = this.callsOf(method)[count - 1];
        if (!call) return;
        this.events.off('call', check);
        setImmediate(() => resolve(call));
      };
      this.events.on('call', check);
      check();
    });
  }

  /** A QueueClient whose calls are recorded with `credentials`. */
  client(credentials: Credentials): QueueClient {
    const ok = { status: {} };
    const report = (taskId: string, runId: string, name: string) => (): unknown => {
      this.reports.push({ taskId, runId, report: name, credentials });
      return ok;
    };
    return {
      claimWork: (taskQueueId, body) =>
        this.answer('claimWork', [taskQueueId, body], credentials, () => ({
          tasks: this.pending.splice(0, body.tasks),
        })),
      reclaimTask: (taskId, runId) =>
        this.answer('reclaimTask', [taskId, runId], credentials, () => ({
          runId: Number(runId),
          takenUntil: new Date(this.now() + this.claimTimeoutMs).toISOString(),
          credentials: this.taskCredentials(`reclaim-${++this.serial}`),
        })),
      reportCompleted: (taskId, runId) =>
        this.answer('reportCompleted', [taskId, runId], credentials, report(taskId, runId, 'completed')),
      reportFailed: (taskId, runId) =>
        this.answer('reportFailed', [taskId, runId], credentials, report(taskId, runId, 'failed')),
      reportException: (taskId, runId, body) =>
        this.answer(
          'reportException',
          [taskId, runId, body],
          credentials,
          report(taskId, runId, `exception/${body.reason}`),
        ),
      createArtifact: (taskId, runId, name, body) =>
        this.answer('createArtifact', [taskId, runId, name, body], credentials, () => {
          this.artifacts.push({ taskId, runId, name, body, credentials });
          return this.created(taskId, runId, name, body);
        }),
      finishArtifact: (taskId, runId, name, body) =>
        this.answer('finishArtifact', [taskId, runId, name, body], credentials, () => ok),
    };
  }

  private created(
    taskId: string,
    runId: string,
    name: string,
    body: CreateArtifactRequest,
  ): CreateArtifactResponse {
    if (body.storageType === 's3') {
      const putUrl =
        this.opts.putUrl?.(taskId, runId, name) ?? `http://127.0.0.1:9/${taskId}/${runId}/${name}`;
      return { storageType: 's3', putUrl };
    }
    if (body.storageType === 'object')
      return {
        storageType: 'object',
        name: `t/${taskId}/${runId}/${name}`,
        projectId: 'none',
        uploadId: `upload-${++this.serial}`,
        expires: body.expires,
        credentials: { clientId: `object-upload-${taskId}`, accessToken: 'object-token' },
      };
    return { storageType: body.storageType };
  }

  private taskCredentials(tag: string): TaskCredentials {
    return { clientId: `task-client/${tag}`, accessToken: `token-${tag}`, certificate: `{"tag":"${tag}"}` };
  }

  private async answer<T>(
    method: QueueMethod,
    args: unknown[],
    credentials: Credentials,
    fallback: () => T | Promise<T>,
  ): Promise<T> {
    const call: QueueCall = { method, args, credentials, at: this.now() };
    this.calls.push(call);
    const scripted = this.scripts.get(method)?.shift() as Answer<T> | undefined;
    this.events.emit('call');
    try {
      if (scripted instanceof Error) throw scripted;
      if (typeof scripted === 'function') return await (scripted as (c: QueueCall) => T | Promise<T>)(call);
      if (scripted !== undefined) return scripted;
      return await fallback();
    } catch (err) {
      call.error = err;
      throw err;
    }
  }
}
