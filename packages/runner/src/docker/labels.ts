/**
 * @module docker/labels
 * Label keys on everything a run creates, removal by label at the end of a run, and the start-up
 * sweep of what a crashed predecessor left (a run whose owning process is gone).
 */
import { hostname } from 'node:os';
import type { DockerClient, Resource, ResourceKind } from './docker-client.js';

export const LABEL = {
  managed: 'org.docker-worker.managed',
  workerId: 'org.docker-worker.worker-id',
  taskId: 'org.docker-worker.task-id',
  runId: 'org.docker-worker.run-id',
  role: 'org.docker-worker.role',
  owner: 'org.docker-worker.owner',
  cache: 'org.docker-worker.cache',
} as const;

/** `shared-network`: the worker's task network, used by every run without a sidecar (never swept). */
export type Role = 'task' | 'sidecar' | 'network' | 'shared-network' | 'volume' | 'cache';

/** `<host name>/<pid>` of the process that created a resource: lets the sweep tell dead runs from live ones. */
export const processOwner = (pid = process.pid): string => `${hostname()}/${pid}`;

export interface RunIdentity {
  workerId: string;
  taskId: string;
  runId: number;
  owner: string;
}

export function runLabels(
  id: RunIdentity,
  role: Role,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    [LABEL.managed]: 'true',
    [LABEL.workerId]: id.workerId,
    [LABEL.taskId]: id.taskId,
    [LABEL.runId]: String(id.runId),
    [LABEL.role]: role,
    [LABEL.owner]: id.owner,
    ...extra,
  };
}

const ORDER: ResourceKind[] = ['container', 'network', 'volume'];

/** Roles that outlive a run and its process: never removed by a run's clean-up or the sweep. */
const LASTING = new Set(['cache', 'shared-network']);

/** Removes every container, then network, then volume matching all `filters` (never caches nor the shared network). */
export async function removeByLabels(
  docker: DockerClient,
  filters: string[],
  keep?: (r: Resource) => boolean,
): Promise<number> {
  let removed = 0;
  const failures: Error[] = [];
  // Listed at once (nothing of a finished run is being created); removed containers first, as a
  // network or volume in use cannot go, then networks and volumes together. A list that fails
  // (an engine restarting) is a failure, but what the others found is still removed.
  const listed = await Promise.allSettled(
    ORDER.map(async (kind) =>
      (await docker.listByLabel(kind, [`${LABEL.managed}=true`, ...filters])).filter(
        (r) => !LASTING.has(r.labels[LABEL.role] ?? '') && !keep?.(r),
      ),
    ),
  );
  const [containers = [], networks = [], volumes = []] = listed.map((l) => {
    if (l.status === 'fulfilled') return l.value;
    failures.push(l.reason as Error);
    return [];
  });
  for (const found of [containers, [...networks, ...volumes]]) {
    const results = await Promise.allSettled(found.map((r) => docker.remove(r)));
    for (const r of results) {
      if (r.status === 'fulfilled') removed++;
      else failures.push(r.reason as Error);
    }
  }
  if (failures.length > 0)
    throw new AggregateError(
      failures,
      `could not remove ${failures.length} resource(s): ${failures[0]?.message}`,
    );
  return removed;
}

/** Removes what one run created (only this process's: a concurrent run of the same task is not touched). */
export function removeRun(docker: DockerClient, id: RunIdentity): Promise<number> {
  return removeByLabels(docker, [
    `${LABEL.workerId}=${id.workerId}`,
    `${LABEL.taskId}=${id.taskId}`,
    `${LABEL.runId}=${id.runId}`,
    `${LABEL.owner}=${id.owner}`,
  ]);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Start-up sweep: removes resources of this worker id whose owner process (on this host) is gone,
 * i.e. what a killed or crashed run left behind. Live concurrent runs are left alone.
 *
 * With `active` (the `<taskId>/<runId>` of the runs this process has going), this process's own
 * resources of any other run go too: what a run's clean-up could not remove (the engine was
 * restarting as the run ended) is removed once the engine answers again.
 */
export function sweepLeftovers(
  docker: DockerClient,
  workerId: string,
  active?: ReadonlySet<string>,
): Promise<number> {
  const host = hostname();
  return removeByLabels(docker, [`${LABEL.workerId}=${workerId}`], (r) => {
    const owner = r.labels[LABEL.owner] ?? '';
    const slash = owner.lastIndexOf('/');
    if (owner.slice(0, slash) !== host) return true; // another host's resources: not ours to judge
    const pid = Number(owner.slice(slash + 1));
    if (active && pid === process.pid)
      return active.has(`${r.labels[LABEL.taskId] ?? ''}/${r.labels[LABEL.runId] ?? ''}`);
    return Number.isInteger(pid) && pid > 0 && isAlive(pid);
  });
}
