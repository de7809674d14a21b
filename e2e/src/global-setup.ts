// Before and after the e2e suites: remove anything a previous (crashed) test run left behind.
import { removeByLabel } from './docker.js';

export async function setup(): Promise<void> {
  await removeByLabel();
}

export async function teardown(): Promise<void> {
  await removeByLabel();
}
