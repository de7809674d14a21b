import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fakeRun } from './testing/fake-run.js';

describe('TaskRun', () => {
  it('redacts every secret the worker knows from the task log: credentials, new ones after a reclaim, config secrets', async () => {
    const { run } = fakeRun({
      credentials: { clientId: 'c', accessToken: 'first-token-value', certificate: '{"cert":"first-cert"}' },
      config: {
        testdroid: { password: 'testdroid-password' },
        taskcluster: { accessToken: 'worker-own-token' },
      },
    });
    run.updateCredentials({ clientId: 'c2', accessToken: 'second-token-value' });
    await run.liveLog.output(
      'a first-token-value b {"cert":"first-cert"} c second-token-value d testdroid-password e worker-own-token\n',
    );
    await run.liveLog.close();
    expect(readFileSync(run.liveLog.path, 'utf8')).toBe(
      'a [secret] b [secret] c [secret] d [secret] e [secret]\n',
    );
    expect(run.credentials).toEqual({ clientId: 'c2', accessToken: 'second-token-value' });
  });
});
