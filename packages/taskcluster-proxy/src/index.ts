/**
 * @module @docker-worker/taskcluster-proxy
 * Scope-limited Taskcluster credential signing proxy, reached by tasks as http://taskcluster.
 */
export const packageName = '@docker-worker/taskcluster-proxy';
