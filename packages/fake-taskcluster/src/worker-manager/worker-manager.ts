/**
 * @module worker-manager/worker-manager
 * worker-manager's state for the static provider: worker pools, static workers, registration with
 * the worker's `staticSecret`, reregistration with a secret that rotates on every call, removal and
 * the should-terminate decision (upstream `api.js` and `providers/static.js`).
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IssuerCredentials, TemporaryCredentials } from '../auth/issue-credentials.js';
import { HttpError } from '../errors.js';
import { GENERIC_ID, TASK_QUEUE_ID, slugid } from '../ids.js';
import { workerCredentials } from './worker-credentials.js';

export interface WorkerPoolSpec {
  /** `<provisionerId>/<workerType>`, the queue's taskQueueId. */
  workerPoolId: string;
  /** Only `static` providers can register workers here. Default `static`. */
  providerId?: string;
  /** Handed unchanged to the worker by `registerWorker`. Default `{}`. */
  workerConfig?: Record<string, unknown>;
}

export interface StaticWorkerSpec {
  workerPoolId: string;
  workerGroup: string;
  workerId: string;
  /** 44 characters `[a-zA-Z0-9_-]`, as `createWorker`'s `providerInfo.staticSecret`. */
  staticSecret: string;
  /** When the worker record expires (registration is refused after). Default one year. */
  expires?: Date;
  capacity?: number;
}

export type WorkerState = 'requested' | 'running' | 'stopping' | 'stopped';

/** A worker as `listWorkersForWorkerPool` returns it. */
export interface WorkerRecord {
  workerPoolId: string;
  workerGroup: string;
  workerId: string;
  providerId: string;
  created: string;
  expires: string;
  state: WorkerState;
  capacity: number;
  lastModified: string;
  lastChecked: string;
}

interface Worker {
  record: WorkerRecord;
  staticSecret: string;
  /** The reregistration secret from the last (re)registration. */
  secret?: string;
  shouldTerminate?: { terminate: boolean; reason: string };
}

export interface Registration {
  expires: string;
  credentials: TemporaryCredentials;
  workerConfig: Record<string, unknown>;
  secret: string;
}

export interface WorkerManagerOptions {
  issuer: IssuerCredentials;
  now: () => number;
  /** Lifetime of worker credentials (upstream: the pool's reregistrationTimeout, default 96 h). */
  credentialsTtlSeconds: number;
}

const STATIC_SECRET = /^[a-zA-Z0-9_-]{44}$/;
const ONE_YEAR = 365 * 24 * 60 * 60 * 1000;

const inputError = (message: string) => new HttpError(400, message, 'InputError');
const notFound = (message: string) => new HttpError(404, message, 'ResourceNotFound');
const key = (pool: string, group: string, id: string) => `${pool}/${group}/${id}`;
const newSecret = () => `${slugid()}${slugid()}`;

function sameSecret(a: string | undefined, b: string): boolean {
  if (a === undefined || a.length !== b.length) return false;
  return timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

export class WorkerManager {
  private readonly pools = new Map<string, Required<WorkerPoolSpec>>();
  private readonly workers = new Map<string, Worker>();

  constructor(private readonly o: WorkerManagerOptions) {}

  addPool(spec: WorkerPoolSpec): void {
    if (!TASK_QUEUE_ID.test(spec.workerPoolId)) throw new Error(`bad workerPoolId ${spec.workerPoolId}`);
    const providerId = spec.providerId ?? 'static';
    if (!GENERIC_ID.test(providerId)) throw new Error(`bad providerId ${providerId}`);
    this.pools.set(spec.workerPoolId, {
      workerPoolId: spec.workerPoolId,
      providerId,
      workerConfig: structuredClone(spec.workerConfig ?? {}),
    });
  }

  addStaticWorker(spec: StaticWorkerSpec): void {
    const pool = this.pools.get(spec.workerPoolId);
    if (!pool) throw new Error(`no worker pool ${spec.workerPoolId}`);
    if (!GENERIC_ID.test(spec.workerGroup) || !GENERIC_ID.test(spec.workerId))
      throw new Error(`bad workerGroup/workerId ${spec.workerGroup}/${spec.workerId}`);
    if (!STATIC_SECRET.test(spec.staticSecret))
      throw new Error('staticSecret must be 44 characters [a-zA-Z0-9_-]');
    const now = new Date(this.o.now()).toJSON();
    this.workers.set(key(spec.workerPoolId, spec.workerGroup, spec.workerId), {
      staticSecret: spec.staticSecret,
      record: {
        workerPoolId: spec.workerPoolId,
        workerGroup: spec.workerGroup,
        workerId: spec.workerId,
        providerId: pool.providerId,
        created: now,
        expires: (spec.expires ?? new Date(this.o.now() + ONE_YEAR)).toJSON(),
        state: 'running',
        capacity: spec.capacity ?? 1,
        lastModified: now,
        lastChecked: now,
      },
    });
  }

  /** A copy of one worker's record. */
  worker(workerPoolId: string, workerGroup: string, workerId: string): WorkerRecord | undefined {
    const w = this.workers.get(key(workerPoolId, workerGroup, workerId));
    return w ? { ...w.record } : undefined;
  }

  setShouldTerminate(
    workerPoolId: string,
    workerGroup: string,
    workerId: string,
    decision: { terminate: boolean; reason: string },
  ): void {
    const w = this.workers.get(key(workerPoolId, workerGroup, workerId));
    if (!w) throw new Error(`no worker ${key(workerPoolId, workerGroup, workerId)}`);
    w.shouldTerminate = { ...decision };
  }

  register(body: {
    workerPoolId: string;
    providerId: string;
    workerGroup: string;
    workerId: string;
    workerIdentityProof: { staticSecret?: string };
  }): Registration {
    const { workerPoolId, providerId, workerGroup, workerId } = body;
    const pool = this.pools.get(workerPoolId);
    if (!pool) throw notFound(`Worker pool ${workerPoolId} does not exist`);
    if (![...this.pools.values()].some((p) => p.providerId === providerId))
      throw notFound(`Provider ${providerId} does not exist`);
    if (pool.providerId !== providerId)
      throw inputError(`Worker pool ${workerPoolId} not associated with provider ${providerId}`);
    const w = this.workers.get(key(workerPoolId, workerGroup, workerId));
    if (!w) throw notFound(`Worker ${workerGroup}/${workerId} in worker pool ${workerPoolId} does not exist`);
    this.checkExpiry(w);
    if (w.record.providerId !== providerId)
      throw inputError(`Worker ${workerGroup}/${workerId} does not have provider ${providerId}`);
    // the static provider's checks
    if (w.record.state !== 'running') throw inputError('worker is not running');
    const { staticSecret } = body.workerIdentityProof;
    if (!staticSecret) throw inputError('missing staticSecret in workerIdentityProof');
    if (!sameSecret(w.staticSecret, staticSecret))
      throw inputError('bad staticSecret in workerIdentityProof');
    w.secret = newSecret();
    return { ...this.credentials(w), workerConfig: structuredClone(pool.workerConfig), secret: w.secret };
  }

  reregister(body: { workerPoolId: string; workerGroup: string; workerId: string; secret: string }) {
    const { workerPoolId, workerGroup, workerId, secret } = body;
    const w = this.workers.get(key(workerPoolId, workerGroup, workerId));
    if (!w || !sameSecret(w.secret, secret))
      throw inputError('Could not generate credentials for this secret');
    if (w.record.state !== 'running') throw inputError(`Worker ${workerGroup}/${workerId} is not running`);
    this.checkExpiry(w);
    w.secret = newSecret();
    return { ...this.credentials(w), secret: w.secret };
  }

  /** The static provider marks the worker stopped (it stays listed). */
  remove(workerPoolId: string, workerGroup: string, workerId: string): void {
    const w = this.existing(workerPoolId, workerGroup, workerId);
    w.record.state = 'stopped';
    w.record.lastModified = new Date(this.o.now()).toJSON();
    delete w.secret;
  }

  shouldTerminate(workerPoolId: string, workerGroup: string, workerId: string) {
    const w = this.existing(workerPoolId, workerGroup, workerId);
    return w.shouldTerminate ? { ...w.shouldTerminate } : { terminate: false, reason: 'none' };
  }

  list(workerPoolId: string, state?: string): WorkerRecord[] {
    if (!this.pools.has(workerPoolId)) throw notFound('Worker Pool does not exist');
    return [...this.workers.values()]
      .filter((w) => w.record.workerPoolId === workerPoolId && (!state || w.record.state === state))
      .map((w) => ({ ...w.record }));
  }

  private existing(workerPoolId: string, workerGroup: string, workerId: string): Worker {
    const w = this.workers.get(key(workerPoolId, workerGroup, workerId));
    if (!w) throw notFound('Worker not found');
    return w;
  }

  private checkExpiry(w: Worker): void {
    if (Date.parse(w.record.expires) < this.o.now())
      throw inputError(`Worker ${w.record.workerGroup}/${w.record.workerId} has expired`);
  }

  private credentials(w: Worker): { expires: string; credentials: TemporaryCredentials } {
    const now = this.o.now();
    const expires = now + this.o.credentialsTtlSeconds * 1000;
    return {
      expires: new Date(expires).toJSON(),
      credentials: workerCredentials(this.o.issuer, w.record, expires, now),
    };
  }
}

/** A fresh random static secret (44 characters), for tests. */
export function staticSecret(): string {
  return randomBytes(33).toString('base64url');
}
