/**
 * Example payloads for every field of the last docker-worker's schema (v99) and the seed's, valid
 * and invalid (used by payload-corpus.test.ts). `seed`: only this worker accepts it (a seed field);
 * `stricter`: valid under the reference schema, refused here on purpose (the reason says why).
 */
export interface CorpusEntry {
  name: string;
  payload: unknown;
  seed?: true;
  stricter?: string;
}

const base = { image: 'debian:bookworm-slim', maxRunTime: 60 };
const withBase = (extra: Record<string, unknown>): Record<string, unknown> => ({ ...base, ...extra });
const ok = (name: string, extra: Record<string, unknown>): CorpusEntry => ({
  name,
  payload: withBase(extra),
});
const seed = (name: string, extra: Record<string, unknown>): CorpusEntry => ({
  ...ok(name, extra),
  seed: true,
});
const stricter = (name: string, extra: Record<string, unknown>, why: string): CorpusEntry => ({
  ...ok(name, extra),
  stricter: why,
});

export const corpus: CorpusEntry[] = [
  // required fields and top level
  { name: 'minimal', payload: base },
  { name: 'no image', payload: { maxRunTime: 1 } },
  { name: 'no maxRunTime', payload: { image: 'x' } },
  { name: 'not an object', payload: 'image' },
  ok('unknown top-level key', { nope: 1 }),
  // image
  ok('image string', { image: 'ubuntu:22.04' }),
  ok('image empty string', { image: '' }),
  ok('image number', { image: 5 }),
  ok('image docker-image', { image: { type: 'docker-image', name: 'x:1' } }),
  ok('image docker-image without name', { image: { type: 'docker-image' } }),
  ok('image docker-image extra key', { image: { type: 'docker-image', name: 'x', tag: 'y' } }),
  ok('image indexed-image', { image: { type: 'indexed-image', namespace: 'a.b', path: 'public/i.tar' } }),
  ok('image indexed-image without path', { image: { type: 'indexed-image', namespace: 'a.b' } }),
  ok('image task-image', { image: { type: 'task-image', taskId: 'fcxT2Gh0TTGo51nrG6_ypQ', path: 'p' } }),
  ok('image task-image any taskId string', { image: { type: 'task-image', taskId: 'x', path: 'p' } }),
  ok('image unknown type', { image: { type: 'oci', name: 'x' } }),
  // command
  ok('command', { command: ['/bin/bash', '-c', 'ls'] }),
  ok('command empty', { command: [] }),
  ok('command string', { command: 'ls' }),
  ok('command number item', { command: ['ls', 1] }),
  // env
  ok('env', { env: { PATH: '/borked/path', ENV_NAME: 'VALUE' } }),
  ok('env exotic names', { env: { 'my-var': 'a', '1ABC': 'b', 'a.b': 'c', 'ü x': 'd' } }),
  ok('env number value', { env: { A: 1 } }),
  ok('env not an object', { env: ['A=1'] }),
  stricter('env name with =', { env: { 'A=B': 'c' } }, 'Docker cannot pass a name with "="'),
  stricter('env name with NUL', { env: { 'A\0B': 'c' } }, 'Docker cannot pass a name with NUL'),
  // maxRunTime
  ok('maxRunTime 1', { maxRunTime: 1 }),
  ok('maxRunTime 86400', { maxRunTime: 86400 }),
  ok('maxRunTime 0', { maxRunTime: 0 }),
  ok('maxRunTime negative', { maxRunTime: -5 }),
  ok('maxRunTime fractional', { maxRunTime: 1.5 }),
  ok('maxRunTime string', { maxRunTime: '60' }),
  // onExitStatus
  ok('onExitStatus', { onExitStatus: { retry: [1, 2], purgeCaches: [3] } }),
  ok('onExitStatus empty', { onExitStatus: {} }),
  ok('onExitStatus unknown key', { onExitStatus: { fail: [1] } }),
  ok('onExitStatus retry not integers', { onExitStatus: { retry: ['1'] } }),
  ok('onExitStatus purgeCaches not an array', { onExitStatus: { purgeCaches: 3 } }),
  // artifacts
  ok('artifact file', {
    artifacts: { 'public/a': { type: 'file', path: '/a', expires: '2026-05-28T16:12:56.693817Z' } },
  }),
  ok('artifact directory', { artifacts: { 'public/d': { type: 'directory', path: '/d' } } }),
  stricter(
    'artifact volume',
    { artifacts: { 'public/v': { type: 'volume', path: '/v' } } },
    'volume artifacts are d2g-only',
  ),
  ok('artifact unknown type', { artifacts: { a: { type: 'link', path: '/a' } } }),
  ok('artifact without path', { artifacts: { a: { type: 'file' } } }),
  ok('artifact without type', { artifacts: { a: { path: '/a' } } }),
  ok('artifact extra key', { artifacts: { a: { type: 'file', path: '/a', name: 'x' } } }),
  ok('artifact bad expires', { artifacts: { a: { type: 'file', path: '/a', expires: 'soon' } } }),
  stricter(
    'artifact expires after the task',
    { artifacts: { a: { type: 'file', path: '/a', expires: '2999-01-01T00:00:00Z' } } },
    "an artifact may not outlive its task (the last worker's queue refused it at upload)",
  ),
  ok('artifacts not an object', { artifacts: ['a'] }),
  // cache
  ok('cache', { cache: { 'level-3-checkouts-v3': '/builds/worker/checkouts' } }),
  ok('cache value number', { cache: { a: 1 } }),
  stricter('cache name with a slash', { cache: { 'a/b': '/c' } }, 'not a volume name; never rewritten'),
  stricter('cache name with a space', { cache: { 'a b': '/c' } }, 'not a volume name; never rewritten'),
  stricter('cache relative mount path', { cache: { a: 'cache' } }, 'Docker refuses a relative mount path'),
  // capabilities
  ok('privileged', { capabilities: { privileged: true } }),
  ok('privileged string', { capabilities: { privileged: 'yes' } }),
  ok('disableSeccomp', { capabilities: { disableSeccomp: true } }),
  ok('capabilities unknown key', { capabilities: { sysAdmin: true } }),
  ok('devices all four', {
    capabilities: {
      devices: { loopbackVideo: true, loopbackAudio: true, hostSharedMemory: true, kvm: false },
    },
  }),
  ok('devices unknown device', { capabilities: { devices: { gpu: true } } }),
  ok('device not boolean', { capabilities: { devices: { kvm: 'yes' } } }),
  seed('devices phone', {
    capabilities: { devices: { phone: { type: 'flame', sims: '1', build: 'b', memory: '319' } } },
  }),
  ok('devices phone without type', { capabilities: { devices: { phone: { sims: '1' } } } }),
  // features
  ok('features of the last worker', {
    features: {
      localLiveLog: false,
      bulkLog: true,
      taskclusterProxy: true,
      artifacts: true,
      interactive: false,
      allowPtrace: true,
      chainOfTrust: true,
    },
  }),
  ok('feature not boolean', { features: { artifacts: 'yes' } }),
  ok('feature unknown', { features: { nope: true } }),
  seed('feature balrogVPNProxy', { features: { balrogVPNProxy: true } }),
  seed('feature testdroidProxy', { features: { testdroidProxy: true } }),
  seed('historical feature dind false', { features: { dind: false } }),
  ok('historical feature dind true', { features: { dind: true } }),
  ok('historical feature dockerSave true', { features: { dockerSave: true } }),
  // seed's encryptedEnv
  seed('encryptedEnv', { encryptedEnv: ['wcBMA...'] }),
  ok('encryptedEnv not strings', { encryptedEnv: [1] }),
  // log and supersederUrl
  ok('log', { log: 'apple/banana.log.txt' }),
  ok('log empty', { log: '' }),
  ok('log number', { log: 3 }),
  ok('supersederUrl a URL', { supersederUrl: 'https://example.invalid/s' }),
  ok('supersederUrl any string', { supersederUrl: 'not a url' }),
  ok('supersederUrl number', { supersederUrl: 1 }),
];
