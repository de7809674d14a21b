// Before and after the e2e suites: remove what earlier test runs that crashed or were killed
// left behind. Each test file removes its own session's resources itself.
import { removeDefaultBridgeFence, removeLeftovers } from './docker.js';

export async function setup(): Promise<void> {
  await removeLeftovers();
}

export async function teardown(): Promise<void> {
  await removeLeftovers();
  await removeDefaultBridgeFence();
}
