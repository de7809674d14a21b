/**
 * @module features/payload
 * Validates the payload against the docker-worker v1 schema (`schemas/payload.json`) with every
 * error, each with its JSON path, in one block; also checks artifact expiry against the task's.
 */
import type { ErrorObject } from 'ajv';
import { validatePayload as validate } from '../schemas/validators.js';
import { malformedPayload } from '../errors.js';
import type { TaskDefinition } from '../task.js';
import type { Feature } from './feature.js';

const IMAGE_FORMS =
  'must be an image name, {type: "docker-image", name}, {type: "indexed-image", namespace, path} or {type: "task-image", taskId, path}';

function describe(e: ErrorObject): string | undefined {
  const path = e.instancePath || '/';
  if (e.schemaPath.startsWith('#/properties/image/oneOf/')) return undefined; // summarised by the oneOf error
  if (e.keyword === 'oneOf' && e.instancePath === '/image') return `${path}: ${IMAGE_FORMS}`;
  if (e.keyword === 'additionalProperties') {
    const extra = String(e.params.additionalProperty);
    if (e.instancePath === '/features')
      return `${path}/${extra}: "${extra}" is not part of valid features (taskclusterProxy, balrogVPNProxy, testdroidProxy)`;
    return `${path}: unknown property "${extra}"`;
  }
  if (e.schemaPath.startsWith('#/definitions/historicalFeature')) {
    if (e.keyword !== 'const') return undefined;
    return `${path}: the feature "${path.split('/').pop()}" is not supported by this worker; remove it or set it to false`;
  }
  if (e.keyword === 'propertyNames') return undefined; // reported with the name below
  if (e.keyword === 'pattern' && e.schemaPath.includes('propertyNames')) {
    return `${path}: ${JSON.stringify(e.params.pattern)} is the allowed pattern for names here`;
  }
  return `${path}: ${e.message ?? e.keyword}${e.keyword === 'enum' ? ` (${(e.params.allowedValues as unknown[]).join(', ')})` : ''}`;
}

/** Every problem with the payload, one line each with its JSON path; empty when it is valid. */
export function payloadErrors(task: Pick<TaskDefinition, 'payload' | 'expires'>): string[] {
  if (!validate(task.payload)) {
    return [...new Set((validate.errors ?? []).map(describe).filter((l): l is string => l !== undefined))];
  }
  const problems: string[] = [];
  for (const [name, a] of Object.entries(task.payload.artifacts ?? {})) {
    if (a.expires && new Date(a.expires).getTime() > task.expires.getTime()) {
      problems.push(
        `/artifacts/${name}/expires: ${a.expires} is after the task's expiry ${task.expires.toISOString()}; use an earlier date or omit it`,
      );
    }
  }
  return problems;
}

export const payload: Feature = {
  name: 'payload',
  isEnabled: () => true,
  isRequested: () => true,
  async start(run) {
    const problems = payloadErrors(run.task);
    if (problems.length > 0) {
      throw malformedPayload(
        `\`task.payload\` format is invalid json schema errors:\n${problems.map((p) => `  ${p}`).join('\n')}`,
      );
    }
  },
};
