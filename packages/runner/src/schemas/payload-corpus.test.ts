import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import addFormatsImport from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { payloadErrors } from '../features/payload.js';
import type { TaskDefinition } from '../task.js';
import { corpus } from './payload-corpus.js';

// The last docker-worker's payload schema, as published (testdata/, MPL-2.0).
const reference = parse(
  readFileSync(new URL('./testdata/docker-worker-v99-payload.yml', import.meta.url), 'utf8'),
) as Record<string, unknown>;
delete reference.$schema; // draft-06; the keywords it uses mean the same in ajv's draft-07
const addFormats = addFormatsImport as unknown as (ajv: Ajv) => Ajv;
const validReference = addFormats(new Ajv({ strict: false, allErrors: true })).compile(reference);

const task = (payload: unknown): Pick<TaskDefinition, 'payload' | 'expires'> => ({
  payload: payload as TaskDefinition['payload'],
  expires: new Date('2027-01-01T00:00:00Z'),
});

describe('payload corpus: valid under the last docker-worker schema ⇔ accepted here', () => {
  it('has valid and invalid examples', () => {
    const valid = corpus.filter((c) => validReference(c.payload)).length;
    expect(valid).toBeGreaterThan(20);
    expect(corpus.length - valid).toBeGreaterThan(20);
  });

  for (const entry of corpus) {
    const kind = entry.seed ? 'seed field' : entry.stricter ? `stricter: ${entry.stricter}` : 'same';
    it(`${entry.name} (${kind})`, () => {
      const reference = validReference(entry.payload);
      const errors = payloadErrors(task(entry.payload), { maxRunTimeLimit: 86400 });
      if (entry.seed) {
        expect(reference).toBe(false);
        expect(errors).toEqual([]);
      } else if (entry.stricter) {
        expect(reference).toBe(true);
        expect(errors).not.toEqual([]);
      } else if (reference) {
        expect(errors).toEqual([]);
      } else {
        expect(errors).not.toEqual([]);
      }
    });
  }
});
