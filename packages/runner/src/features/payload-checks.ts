/**
 * @module features/payload-checks
 * The payload checks a JSON schema cannot express, reported with the schema's errors in one block:
 * variable names Docker cannot pass (`=`, NUL), cache names that are no volume name (never
 * rewritten into another name), relative cache mount paths, d2g-only `volume` artifacts, artifact
 * expiry after the task's, and maxRunTime above the worker's maxRunTimeLimit. Each check reads
 * only what it can trust (the schema may have failed elsewhere).
 */
import { isReservedImageName, TASK_IMAGE_REPO } from '../images/source.js';
import type { TaskDefinition } from '../task.js';

/** Cache names: what a Docker volume name may hold after the worker's prefix. */
export const CACHE_NAME = /^[a-zA-Z0-9_.-]+$/;

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const entries = (v: unknown): [string, unknown][] => (isObject(v) ? Object.entries(v) : []);

const pointer = (...parts: string[]): string =>
  `/${parts.map((p) => p.replace(/~/g, '~0').replace(/\//g, '~1')).join('/')}`;

export interface PayloadLimits {
  maxRunTimeLimit?: number;
}

export function payloadChecks(
  task: Pick<TaskDefinition, 'payload' | 'expires'>,
  limits: PayloadLimits = {},
): string[] {
  const payload: unknown = task.payload;
  if (!isObject(payload)) return [];
  const problems: string[] = [];
  for (const [name] of entries(payload.env)) {
    if (name.includes('=') || name.includes('\0') || name === '') {
      problems.push(
        `${pointer('env', name)}: the variable name ${JSON.stringify(name)} cannot be passed to a container (a name may not be empty or contain "=" or NUL); rename it`,
      );
    }
  }
  for (const [name, path] of entries(payload.cache)) {
    if (!CACHE_NAME.test(name)) {
      problems.push(
        `${pointer('cache', name)}: the cache name ${JSON.stringify(name)} is not valid: use only letters, digits, "_", "." and "-" (names are never rewritten)`,
      );
    }
    if (typeof path === 'string' && !path.startsWith('/')) {
      problems.push(`${pointer('cache', name)}: the mount path ${JSON.stringify(path)} must be absolute`);
    }
  }
  for (const [name, a] of entries(payload.artifacts)) {
    if (!isObject(a)) continue;
    if (a.type === 'volume') {
      problems.push(
        `${pointer('artifacts', name, 'type')}: "volume" artifacts are d2g-only (generic-worker); use "file" or "directory" on docker-worker`,
      );
    }
    const expires = typeof a.expires === 'string' ? Date.parse(a.expires) : NaN;
    if (!Number.isNaN(expires) && expires > task.expires.getTime()) {
      problems.push(
        `${pointer('artifacts', name, 'expires')}: ${String(a.expires)} is after the task's expiry ${task.expires.toISOString()}; use an earlier date or omit it`,
      );
    }
  }
  const image = isObject(payload.image) && payload.image.type === 'docker-image' ? payload.image.name : payload.image;
  if (typeof image === 'string' && isReservedImageName(image)) {
    problems.push(
      `/image: the name ${JSON.stringify(image)} is reserved for images the worker loads from task artifacts (${TASK_IMAGE_REPO}); name another image`,
    );
  }
  const max = limits.maxRunTimeLimit;
  if (max !== undefined && typeof payload.maxRunTime === 'number' && payload.maxRunTime > max) {
    problems.push(
      `/maxRunTime: ${payload.maxRunTime}s is above this worker's limit of ${max}s (worker config maxRunTimeLimit); lower payload.maxRunTime`,
    );
  }
  return problems;
}
