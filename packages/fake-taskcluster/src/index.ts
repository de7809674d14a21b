/**
 * @module @docker-worker/fake-taskcluster
 * A faithful local stand-in for Taskcluster (auth, queue, index, artifact storage) for tests.
 */
export const packageName = '@docker-worker/fake-taskcluster';
