/**
 * @module worker-manager/worker-credentials
 * The credentials `registerWorker` and `reregisterWorker` hand out (upstream `createCredentials`):
 * named temporary credentials `worker/<providerId>/<workerPoolId>/<workerGroup>/<workerId>`,
 * starting 15 minutes ago, signed by worker-manager's own client.
 */
import { issueTemporaryCredentials } from '../auth/issue-credentials.js';
import type { IssuerCredentials, TemporaryCredentials } from '../auth/issue-credentials.js';

export interface WorkerRef {
  providerId: string;
  workerPoolId: string;
  workerGroup: string;
  workerId: string;
}

/** The scopes worker-manager's own client holds: what it may put into worker credentials. */
export const WORKER_MANAGER_SCOPES = [
  'auth:create-client:worker/*',
  'assume:worker-type:*',
  'assume:worker-pool:*',
  'assume:worker-id:*',
  'queue:worker-id:*',
  'secrets:get:worker-type:*',
  'secrets:get:worker-pool:*',
  'queue:claim-work:*',
  'worker-manager:remove-worker:*',
  'worker-manager:reregister-worker:*',
  'worker-manager:should-worker-terminate:*',
];

export function workerScopes(w: WorkerRef): string[] {
  const pool = w.workerPoolId;
  const worker = `${w.workerGroup}/${w.workerId}`;
  return [
    `assume:worker-type:${pool}`, // deprecated role, still issued upstream
    `assume:worker-pool:${pool}`,
    `assume:worker-id:${worker}`,
    `queue:worker-id:${worker}`,
    `secrets:get:worker-type:${pool}`, // deprecated secret name
    `secrets:get:worker-pool:${pool}`,
    `queue:claim-work:${pool}`,
    `worker-manager:remove-worker:${pool}/${worker}`,
    `worker-manager:reregister-worker:${pool}/${worker}`,
    `worker-manager:should-worker-terminate:${pool}/${worker}`,
  ];
}

const FIFTEEN_MINUTES = 15 * 60 * 1000;

export function workerCredentials(
  issuer: IssuerCredentials,
  w: WorkerRef,
  expires: number,
  now: number,
): TemporaryCredentials {
  return issueTemporaryCredentials({
    issuer,
    clientId: `worker/${w.providerId}/${w.workerPoolId}/${w.workerGroup}/${w.workerId}`,
    start: now - FIFTEEN_MINUTES,
    expiry: expires,
    scopes: workerScopes(w),
  });
}
