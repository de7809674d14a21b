import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import tarStream from 'tar-stream';
import { describe, expect, it } from 'vitest';
import { stripTags } from './strip-tags.js';

type Entries = Map<string, Buffer>;

/** A tarball of `entries` in order, as `docker save` writes one. */
async function tarOf(entries: [string, Buffer | string][]): Promise<Buffer> {
  const pack = tarStream.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c) => void chunks.push(c as Buffer));
  const ended = new Promise<void>((resolve) => pack.on('end', () => resolve()));
  for (const [name, body] of entries)
    await new Promise<void>((resolve, reject) =>
      pack.entry({ name, mode: 0o644, mtime: new Date(0) }, body, (err) => (err ? reject(err) : resolve())),
    );
  pack.finalize();
  await ended;
  return Buffer.concat(chunks);
}

async function untar(stream: Readable): Promise<{ names: string[]; entries: Entries }> {
  const extract = tarStream.extract();
  stream.on('error', (err) => extract.destroy(err)).pipe(extract);
  const names: string[] = [];
  const entries: Entries = new Map();
  for await (const entry of extract) {
    const chunks: Buffer[] = [];
    for await (const c of entry) chunks.push(c as Buffer);
    names.push(entry.header.name);
    entries.set(entry.header.name, Buffer.concat(chunks));
  }
  return { names, entries };
}

/** The input in chunks of `size` bytes (a download's arbitrary boundaries). */
const chunked = (b: Buffer, size: number): Readable =>
  Readable.from(
    Array.from({ length: Math.ceil(b.length / size) }, (_, i) => b.subarray(i * size, (i + 1) * size)),
  );

const digest = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

describe('stripTags on a docker save tarball (legacy and OCI layout, as Docker 25+ writes)', () => {
  const layer = randomBytes(300_000); // not a multiple of 512: tar padding included
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', rootfs: { diff_ids: [] } }));
  const layerDigest = digest(layer);
  const configDigest = digest(config);
  const index = {
    schemaVersion: 2,
    manifests: [
      {
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        digest: `sha256:${'1'.repeat(64)}`,
        size: 100,
        annotations: {
          'io.containerd.image.name': 'docker.io/library/debian:latest',
          'org.opencontainers.image.ref.name': 'latest',
          'org.example.keep': 'yes',
        },
      },
    ],
  };
  const input: [string, Buffer | string][] = [
    [`blobs/sha256/${layerDigest}`, layer],
    [`blobs/sha256/${configDigest}`, config],
    ['index.json', JSON.stringify(index)],
    [
      'manifest.json',
      JSON.stringify([
        {
          Config: `blobs/sha256/${configDigest}`,
          RepoTags: ['debian:latest', 'docker-worker/taskcluster-proxy:latest'],
          Layers: [`blobs/sha256/${layerDigest}`],
        },
      ]),
    ],
    ['oci-layout', '{"imageLayoutVersion":"1.0.0"}'],
    ['repositories', JSON.stringify({ debian: { latest: layerDigest } })],
  ];

  it('empties RepoTags, drops repositories, removes the name annotations; layers and config unchanged', async () => {
    const tar = await tarOf(input);
    const { names, entries } = await untar(await stripTags(chunked(tar, 4099)));
    expect(names).toEqual(input.map(([n]) => n).filter((n) => n !== 'repositories'));
    expect(entries.get(`blobs/sha256/${layerDigest}`)?.equals(layer)).toBe(true);
    expect(entries.get(`blobs/sha256/${configDigest}`)?.equals(config)).toBe(true);
    expect(entries.get('oci-layout')?.toString()).toBe('{"imageLayoutVersion":"1.0.0"}');
    const manifest = JSON.parse(entries.get('manifest.json')?.toString() ?? '') as Record<string, unknown>[];
    expect(manifest).toEqual([
      { Config: `blobs/sha256/${configDigest}`, RepoTags: null, Layers: [`blobs/sha256/${layerDigest}`] },
    ]);
    const stripped = JSON.parse(entries.get('index.json')?.toString() ?? '') as typeof index;
    expect(stripped.manifests[0]?.annotations).toEqual({ 'org.example.keep': 'yes' });
    expect(stripped.manifests[0]?.digest).toBe(index.manifests[0]?.digest);
  });

  it('accepts ./-prefixed names, as tar -C dir . writes them', async () => {
    const dotted = input.map(([n, b]) => [`./${n}`, b] as [string, Buffer | string]);
    const { names, entries } = await untar(await stripTags(chunked(await tarOf(dotted), 65_536)));
    expect(names).not.toContain('./repositories');
    const manifest = JSON.parse(entries.get('./manifest.json')?.toString() ?? '') as { RepoTags: unknown }[];
    expect(manifest[0]?.RepoTags).toBeNull();
  });

  it('a broken input stream fails the output stream', async () => {
    const tar = await tarOf(input);
    const broken = new Readable({
      read() {
        this.push(tar.subarray(0, 2048));
        this.destroy(new Error('download reset'));
      },
    });
    await expect(untar(await stripTags(broken))).rejects.toThrow(/download reset|premature|Unexpected end/i);
  });

  it('gives the same archive however the input is cut (every split point of a small one)', async () => {
    const small: [string, Buffer | string][] = [
      ['blobs/sha256/aa', 'layer bytes'],
      ['manifest.json', JSON.stringify([{ Config: 'c', RepoTags: ['debian:latest'], Layers: [] }])],
      ['repositories', '{}'],
    ];
    const tar = await tarOf(small);
    const whole = Buffer.concat(await (await stripTags(Readable.from([tar]))).toArray());
    for (let i = 0; i <= tar.length; i += 37) {
      const parts = await (await stripTags(Readable.from([tar.subarray(0, i), tar.subarray(i)]))).toArray();
      expect(Buffer.concat(parts).equals(whole)).toBe(true);
    }
    const { names, entries } = await untar(Readable.from([whole]));
    expect(names).toEqual(['blobs/sha256/aa', 'manifest.json']);
    expect(entries.get('blobs/sha256/aa')?.toString()).toBe('layer bytes');
  });

  it('keeps a PAX long name with its entry (a name longer than 100 bytes)', async () => {
    const long = `blobs/sha256/${'d'.repeat(120)}`;
    const { names, entries } = await untar(
      await stripTags(chunked(await tarOf([[long, layer], ...input.slice(2)]), 4096)),
    );
    expect(names[0]).toBe(long);
    expect(digest(entries.get(long) ?? Buffer.alloc(0))).toBe(layerDigest);
  });

  it('refuses a truncated archive and a corrupt header with one line each', async () => {
    const tar = await tarOf(input);
    await expect(untar(await stripTags(Readable.from([tar.subarray(0, 10_000)])))).rejects.toThrow(
      /ends in the middle of an entry|Unexpected end/,
    );
    const corrupt = Buffer.from(tar);
    corrupt.write('garbage!', 124, 'latin1');
    await expect(untar(await stripTags(Readable.from([corrupt])))).rejects.toThrow(/corrupt tar header/);
  });
});
