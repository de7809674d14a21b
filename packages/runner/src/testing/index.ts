/**
 * @module @docker-worker/runner/testing
 * Test helpers shared with other packages: a FakeClock, an in-memory DockerClient, and a
 * TaskRun builder for feature unit tests.
 */
export { FakeClock } from './fake-clock.js';
export { FakeDocker } from './fake-docker.js';
export { fakeOutcome, fakeRun, fakeTask, startFeature } from './fake-run.js';
export type { FakeRunOptions, StartedFeature } from './fake-run.js';
