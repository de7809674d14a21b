import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveConfig } from './config.js';

const env = {
  TESTDROID_CLOUD_URL: 'https://cloud.example',
  TESTDROID_USERNAME: 'u',
  TESTDROID_PASSWORD: 'pw-secret',
  TASKCLUSTER_CLIENT_ID: 'worker',
  TASKCLUSTER_ACCESS_TOKEN: 'tok',
  DEVICE_TIMEOUT: '3600',
};

describe('resolveConfig', () => {
  it('reads the password, access token and certificate from <VAR>_FILE, so they need not be in the environment', () => {
    const dir = mkdtempSync(join(tmpdir(), 'testdroid-config-'));
    const file = (name: string, content: string): string => {
      writeFileSync(join(dir, name), content, { mode: 0o600 });
      return join(dir, name);
    };
    const { TESTDROID_PASSWORD: _p, TASKCLUSTER_ACCESS_TOKEN: _t, ...rest } = env;
    const c = resolveConfig(
      {},
      {
        ...rest,
        TESTDROID_PASSWORD_FILE: file('pw', 'pw-from-file\n'),
        TASKCLUSTER_ACCESS_TOKEN_FILE: file('tok', 'tok-from-file'),
        TASKCLUSTER_CERTIFICATE_FILE: file('cert', '{"version":1}\n'),
      },
    );
    expect(c.password).toBe('pw-from-file');
    expect(c.taskcluster).toMatchObject({ accessToken: 'tok-from-file', certificate: '{"version":1}' });
    expect(() => resolveConfig({}, { ...rest, TESTDROID_PASSWORD_FILE: join(dir, 'absent') })).toThrow(
      `TESTDROID_PASSWORD_FILE=${join(dir, 'absent')}: cannot read it (ENOENT)`,
    );
  });

  it('reads the environment, adds the final / to the cloud URL and applies defaults', () => {
    expect(resolveConfig({}, env)).toEqual({
      cloudUrl: 'https://cloud.example/',
      username: 'u',
      password: 'pw-secret',
      taskcluster: { clientId: 'worker', accessToken: 'tok', authorizedScopes: [] },
      deviceTimeoutSec: 3600,
      port: 80,
      host: '0.0.0.0',
      proxyHost: '10.1.2.9',
      logLevel: 'info',
      polls: { flashPollMs: 10_000, proxyPollMs: 5_000 },
    });
  });

  it('lets options win over the environment', () => {
    const c = resolveConfig(
      { deviceTimeout: '60', port: '8080', taskclusterCertificate: '{"version":1}' },
      env,
    );
    expect([c.deviceTimeoutSec, c.port, c.taskcluster.certificate]).toEqual([60, 8080, '{"version":1}']);
  });

  it('reads the polling intervals from options or the environment', () => {
    const c = resolveConfig({ flashPollMs: '200' }, { ...env, TESTDROID_PROXY_POLL_MS: '150' });
    expect(c.polls).toEqual({ flashPollMs: 200, proxyPollMs: 150 });
  });

  it.each([
    [{ TESTDROID_PASSWORD: '' }, 'missing --password (or env TESTDROID_PASSWORD)'],
    [{ DEVICE_TIMEOUT: '1.5' }, '--device-timeout must be an integer from 1 to 604800, got "1.5"'],
    [
      { TESTDROID_CLOUD_URL: 'ftp://x/' },
      '--cloud-url must be an http(s) URL like https://cloud.testdroid.com/',
    ],
    [
      { TASKCLUSTER_CERTIFICATE: '{' },
      '--taskcluster-certificate must be the certificate JSON exactly as issued',
    ],
    [
      { LOG_LEVEL: 'verbose' },
      '--log-level must be one of fatal, error, warn, info, debug, trace, silent, got "verbose"',
    ],
    [{ TESTDROID_FLASH_POLL_MS: '0' }, '--flash-poll-ms must be an integer from 1 to 3600000, got "0"'],
    [{ TESTDROID_PROXY_POLL_MS: '1s' }, '--proxy-poll-ms must be an integer from 1 to 3600000, got "1s"'],
  ])('refuses %j in one line', (over, message) => {
    expect(() => resolveConfig({}, { ...env, ...over })).toThrow(message);
  });

  it('takes the task scopes as the authorizedScopes of every signature; none means anonymous only', () => {
    const scopes = ['queue:get-artifact:private/build/*', 'secrets:get:x'];
    expect(resolveConfig({}, env, scopes).taskcluster.authorizedScopes).toEqual(scopes);
    expect(resolveConfig({}, env).taskcluster.authorizedScopes).toEqual([]);
  });

  it('refuses an invalid task scope at start, without quoting it', () => {
    const bad = 'queue:get-artifact:x\nsecret-looking-value';
    let message = '';
    try {
      resolveConfig({}, env, ['queue:ok', bad]);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toBe(
      'task scope 2 (after --) is not a valid scope: scopes are printable ASCII, without control characters or newlines',
    );
  });
});
