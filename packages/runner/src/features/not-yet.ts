/**
 * @module features/not-yet
 * A payload feature of the last docker-worker that this worker does not have yet: asking for it
 * (`true`) is malformed-payload saying so; `false` is fine. Its own feature replaces the entry in
 * `index.ts` when it lands.
 */
import { malformedPayload } from '../errors.js';
import type { Feature } from './feature.js';

export function notYetAvailable(name: string, issue: string): Feature {
  return {
    name,
    isEnabled: () => true,
    isRequested: (task) => task.payload.features?.[name] === true,
    async start() {
      throw malformedPayload(
        `payload.features.${name} is not available on this worker yet (${issue}); remove it or set it to false`,
      );
    },
  };
}
