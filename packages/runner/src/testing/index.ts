/**
 * @module @docker-worker/runner/testing
 * Test helpers shared with other packages: a FakeClock, an in-memory DockerClient, and a
 * RunContext builder for feature unit tests.
 */
export { FakeClock } from './fake-clock.js';
export { FakeDocker } from './fake-docker.js';
export { fakeRun, fakeTask } from './fake-run.js';
export type { FakeRunOptions } from './fake-run.js';
