/**
 * @module features/payload
 * Validates the payload against the docker-worker v1 schema (`schemas/payload.json`: the last
 * docker-worker's schema and the seed's fields) and the checks a schema cannot express
 * (`payload-checks.ts`): every error, each with its JSON path, in one block.
 */
import type { ErrorObject } from 'ajv';
import { validatePayload as validate } from '../schemas/validators.js';
import { malformedPayload } from '../errors.js';
import type { TaskDefinition } from '../task.js';
import { payloadChecks, type PayloadLimits } from './payload-checks.js';
import type { Feature } from './feature.js';

const IMAGE_FORMS =
  'must be an image name, {type: "docker-image", name}, {type: "indexed-image", namespace, path} or {type: "task-image", taskId, path}';

const FEATURE_NAMES =
  'localLiveLog, bulkLog, taskclusterProxy, artifacts, interactive, allowPtrace, chainOfTrust, balrogVPNProxy, testdroidProxy';

function describe(e: ErrorObject): string | undefined {
  const path = e.instancePath || '/';
  if (e.schemaPath.startsWith('#/properties/image/oneOf/')) return undefined; // summarised by the oneOf error
  if (e.keyword === 'oneOf' && e.instancePath === '/image') return `${path}: ${IMAGE_FORMS}`;
  if (e.keyword === 'additionalProperties') {
    const extra = String(e.params.additionalProperty);
    if (e.instancePath === '/features')
      return `${path}/${extra}: "${extra}" is not part of valid features (${FEATURE_NAMES})`;
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
export function payloadErrors(
  task: Pick<TaskDefinition, 'payload' | 'expires'>,
  limits: PayloadLimits = {},
): string[] {
  const schema = validate(task.payload)
    ? []
    : (validate.errors ?? []).map(describe).filter((l): l is string => l !== undefined);
  return [...new Set([...schema, ...payloadChecks(task, limits)])];
}

export const payload: Feature = {
  name: 'payload',
  isEnabled: () => true,
  isRequested: () => true,
  async start(run) {
    const problems = payloadErrors(run.task, run.config);
    if (problems.length > 0) {
      throw malformedPayload(
        `\`task.payload\` format is invalid json schema errors:\n${problems.map((p) => `  ${p}`).join('\n')}`,
      );
    }
  },
};
