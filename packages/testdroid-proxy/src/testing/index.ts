/**
 * @module @docker-worker/testdroid-proxy/testing
 * Test helpers: the simulated Testdroid cloud and a fast clock for the device flow.
 */
export * from './simulated-cloud.js';
export { FastClock } from './fast-clock.js';
export { LABEL_GROUPS as SIM_LABEL_GROUPS, FLASH_PROJECT } from './sim-state.js';
