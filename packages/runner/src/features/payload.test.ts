import { describe, expect, it } from 'vitest';
import { fakeRun, fakeTask } from '../testing/fake-run.js';
import { payloadErrors, payload } from './payload.js';

const base = { image: 'debian:bookworm-slim', command: ['true'], maxRunTime: 10 };
const errors = (p: Record<string, unknown>) =>
  payloadErrors(fakeTask({ payload: p as never }), { maxRunTimeLimit: 86400 });

describe('payload validation', () => {
  it('accepts the image in all four forms', () => {
    expect(errors(base)).toEqual([]);
    expect(errors({ ...base, image: { type: 'docker-image', name: 'x:1' } })).toEqual([]);
    expect(
      errors({ ...base, image: { type: 'indexed-image', namespace: 'a.b', path: 'public/image.tar' } }),
    ).toEqual([]);
    expect(
      errors({
        ...base,
        image: { type: 'task-image', taskId: 'fcxT2Gh0TTGo51nrG6_ypQ', path: 'public/image.tar' },
      }),
    ).toEqual([]);
  });

  it('accepts every documented field', () => {
    const full = {
      ...base,
      env: { A: 'b' },
      encryptedEnv: ['abc'],
      features: {
        taskclusterProxy: true,
        balrogVPNProxy: false,
        testdroidProxy: true,
        localLiveLog: true,
        chainOfTrust: false,
      },
      artifacts: { 'public/a': { type: 'file', path: '/a', expires: '2026-01-02T00:00:00Z' } },
      cache: { 'level-1-x': '/cache' },
      capabilities: {
        privileged: true,
        devices: { kvm: true, phone: { type: 'p', sims: '1', build: 'b', memory: '1' } },
      },
      onExitStatus: { retry: [3], purgeCaches: [4] },
      log: 'public/logs/live.log',
      supersederUrl: 'https://example.invalid/s',
    };
    expect(errors(full)).toEqual([]);
  });

  it('lists every error with its JSON path, not just the first', () => {
    const list = errors({
      image: 5,
      command: 'ls',
      maxRunTime: 90000,
      features: { nope: true, dind: true },
      env: { A: 1 },
    });
    expect(list).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^\/image: must be an image name/),
        '/command: must be array',
        expect.stringMatching(
          /^\/maxRunTime: 90000s is above this worker's limit of 86400s \(worker config maxRunTimeLimit\)/,
        ),
        expect.stringMatching(/^\/features\/nope: "nope" is not part of valid features/),
        expect.stringMatching(/^\/features\/dind: the feature "dind" is not supported by this worker/),
        '/env/A: must be string',
      ]),
    );
    expect(list).toHaveLength(6);
  });

  it('requires image and maxRunTime', () => {
    expect(payloadErrors({ ...fakeTask(), payload: {} as never })).toEqual([
      "/: must have required property 'image'",
      "/: must have required property 'maxRunTime'",
    ]);
  });

  it('reports schema errors, bad names and artifact expiry together', () => {
    const list = errors({
      ...base,
      command: 'ls',
      env: { 'A=B': 'x', 'my-var.1': 'ok' },
      cache: { 'a/b': '/c', good: 'relative' },
      artifacts: { a: { type: 'file', path: '/a', expires: '2099-01-01T00:00:00Z' } },
    });
    expect(list).toEqual([
      '/command: must be array',
      expect.stringMatching(/^\/env\/A=B: the variable name "A=B" cannot be passed/),
      expect.stringMatching(/^\/cache\/a~1b: the cache name "a\/b" is not valid/),
      '/cache/good: the mount path "relative" must be absolute',
      expect.stringMatching(/^\/artifacts\/a\/expires: .* is after the task's expiry/),
    ]);
  });

  it('refuses volume artifacts as d2g-only', () => {
    expect(errors({ ...base, artifacts: { v: { type: 'volume', path: '/v' } } })).toEqual([
      expect.stringMatching(/^\/artifacts\/v\/type: "volume" artifacts are d2g-only/),
    ]);
  });

  it('rejects an artifact that would outlive the task', () => {
    const list = errors({
      ...base,
      artifacts: { a: { type: 'file', path: '/a', expires: '2099-01-01T00:00:00Z' } },
    });
    expect(list).toEqual([expect.stringMatching(/^\/artifacts\/a\/expires: .* is after the task's expiry/)]);
  });

  it('fails the run as malformed-payload with one block', async () => {
    const { run } = fakeRun({ payload: { maxRunTime: -1, command: 'x' } as never });
    await expect(payload.start(run)).rejects.toMatchObject({
      resolution: 'malformed-payload',
      message: expect.stringMatching(
        /^`task\.payload` format is invalid json schema errors:\n {2}\/command: must be array\n {2}\/maxRunTime: must be >= 1$/,
      ),
    });
  });
});
