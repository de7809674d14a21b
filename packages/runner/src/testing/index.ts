/**
 * @module @docker-worker/runner/testing
 * Test helpers shared with other packages: a FakeClock.
 */
export { FakeClock } from './fake-clock.js';
