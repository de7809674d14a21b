import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pack } from 'tar-stream';
import { describe, expect, it } from 'vitest';
import { DockerError } from '../docker/docker-client.js';
import { FakeDocker } from '../testing/fake-docker.js';
import { fakeOutcome, fakeRun, startFeature } from '../testing/fake-run.js';
import { artifacts } from './artifacts.js';

type Entry = { name: string; type?: 'file' | 'directory' | 'symlink'; body?: string; linkname?: string };

/** A FakeDocker whose archive API serves tars built from `tree` (path → entries). */
class ArchiveDocker extends FakeDocker {
  constructor(private readonly tree: Record<string, Entry[]>) {
    super();
  }
  override async getArchive(_id: string, path: string): Promise<Readable> {
    const entries = this.tree[path];
    if (!entries) throw new DockerError('get archive', 404, `Could not find the file ${path} in container`);
    const tar = pack();
    for (const e of entries)
      tar.entry({ name: e.name, type: e.type ?? 'file', linkname: e.linkname }, e.body ?? '');
    tar.finalize();
    return tar as unknown as Readable;
  }
}

const done = fakeOutcome({ containerId: 'c1' });

describe('artifacts', () => {
  it('copies files, directories (nested) and followed symlinks, with content types and expiry', async () => {
    const docker = new ArchiveDocker({
      '/out/a.txt': [{ name: 'a.txt', body: 'A' }],
      '/out/dir': [
        { name: 'dir', type: 'directory' },
        { name: 'dir/x.json', body: '{}' },
        { name: 'dir/sub', type: 'directory' },
        { name: 'dir/sub/y.html', body: '<p>' },
        { name: 'dir/l', type: 'symlink', linkname: 'x.json' },
      ],
      '/out/link': [{ name: 'link', type: 'symlink', linkname: 'a.txt' }],
    });
    const { run, dir } = fakeRun({
      docker,
      payload: {
        artifacts: {
          'public/a.txt': { type: 'file', path: '/out/a.txt', expires: '2026-01-05T00:00:00.000Z' },
          'public/dir': { type: 'directory', path: '/out/dir' },
          'public/link.txt': { type: 'file', path: '/out/link' },
        },
      },
    });
    await (await startFeature(artifacts, run)).stop(done);
    const records = Object.fromEntries(run.artifacts.records.map((r) => [r.name, r]));
    expect(Object.keys(records).sort()).toEqual([
      'public/a.txt',
      'public/dir/sub/y.html',
      'public/dir/x.json',
      'public/link.txt',
    ]);
    expect(records['public/a.txt']).toMatchObject({
      contentType: 'text/plain',
      expires: '2026-01-05T00:00:00.000Z',
    });
    expect(records['public/dir/x.json']).toMatchObject({
      contentType: 'application/json',
      expires: run.task.expires.toISOString(),
    });
    expect(records['public/dir/sub/y.html']?.contentType).toBe('text/html');
    expect(readFileSync(join(dir, 'artifacts/public/link.txt'), 'utf8')).toBe('A');
    expect(existsSync(join(dir, 'artifacts/public/dir/l'))).toBe(false);
    expect(run.artifacts.errors).toEqual([]);
  });

  it('records a missing path and a wrong type without failing the task', async () => {
    const docker = new ArchiveDocker({ '/out/dir': [{ name: 'dir', type: 'directory' }] });
    const { run } = fakeRun({
      docker,
      payload: {
        artifacts: {
          'public/m': { type: 'file', path: '/nope' },
          'public/w': { type: 'file', path: '/out/dir' },
        },
      },
    });
    await (await startFeature(artifacts, run)).stop(done);
    expect(run.artifacts.errors).toEqual([
      {
        name: 'public/m',
        reason: 'file-missing-on-worker',
        message: 'Artifact "public/m" not found at "/nope"',
        expires: run.task.expires.toISOString(),
      },
      {
        name: 'public/w',
        reason: 'invalid-resource-on-worker',
        message: '"/out/dir" is a directory, expected a file',
        expires: run.task.expires.toISOString(),
      },
    ]);
  });

  it('fails the task when copying breaks', async () => {
    const docker = new ArchiveDocker({});
    docker.getArchive = async () => {
      throw new DockerError('get archive', 500, 'engine exploded');
    };
    const { run } = fakeRun({ docker, payload: { artifacts: { 'public/a': { type: 'file', path: '/a' } } } });
    await expect((await startFeature(artifacts, run)).stop(done)).rejects.toMatchObject({
      resolution: 'failed',
      message: 'Error uploading "public/a" artifact. engine exploded',
    });
  });

  it('does nothing when the container never existed, or when the run was cancelled', async () => {
    const docker = new ArchiveDocker({ '/a': [{ name: 'a', body: 'A' }] });
    const { run } = fakeRun({ docker, payload: { artifacts: { 'public/a': { type: 'file', path: '/a' } } } });
    const handle = await startFeature(artifacts, run);
    await handle.stop(fakeOutcome());
    await handle.stop(fakeOutcome({ containerId: 'c1', state: 'exception', reasonResolved: 'canceled' }));
    expect(run.artifacts.errors).toEqual([]);
    expect(run.artifacts.records).toEqual([]);
    await handle.stop(done); // the same container without the cancellation: it is collected
    expect(run.artifacts.records.map((r) => r.name)).toEqual(['public/a']);
  });
});
