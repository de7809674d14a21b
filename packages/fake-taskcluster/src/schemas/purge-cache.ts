/**
 * @module schemas/purge-cache
 * The purge-cache service's purge request (upstream's purge-cache-request.yml).
 */
export const purgeCacheRequest = {
  type: 'object',
  properties: { cacheName: { type: 'string' } },
  additionalProperties: false,
  required: ['cacheName'],
};
