/**
 * @module images/strip-tags
 * Passes a `docker save` tarball through, streaming, with its names removed (`manifest.json`
 * RepoTags emptied, the legacy `repositories` file dropped, OCI `index.json` name annotations
 * removed), so `docker load` creates an untagged image: a task image can never re-point a tag
 * another task (or the worker's own sidecars) run by, e.g. a tarball carrying `debian:latest`.
 */
import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

const NAME_ANNOTATIONS = ['io.containerd.image.name', 'org.opencontainers.image.ref.name'];

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

function rewrite(name: string, content: Buffer): Buffer {
  const json = JSON.parse(content.toString('utf8')) as unknown;
  if (name === 'manifest.json' && Array.isArray(json)) {
    for (const m of json as { RepoTags?: unknown }[]) m.RepoTags = null;
  } else if (name === 'index.json') {
    for (const m of (json as { manifests?: { annotations?: Record<string, string> }[] }).manifests ?? [])
      for (const key of NAME_ANNOTATIONS) delete m.annotations?.[key];
  }
  return Buffer.from(JSON.stringify(json));
}

export async function stripTags(input: Readable): Promise<Readable> {
  const { default: tarStream } = await import('tar-stream');
  const extract = tarStream.extract();
  const pack = tarStream.pack();
  const out = new PassThrough();
  input.on('error', (err) => extract.destroy(err));
  input.pipe(extract);
  pack.pipe(out);
  void (async () => {
    for await (const entry of extract) {
      const name = entry.header.name.replace(/^\.\//, '');
      if (name === 'repositories') {
        entry.resume();
        continue;
      }
      if (name === 'manifest.json' || name === 'index.json') {
        const content = rewrite(name, await readAll(entry as unknown as Readable));
        await new Promise<void>((resolve, reject) =>
          pack.entry({ ...entry.header, size: content.length }, content, (err) =>
            err ? reject(err) : resolve(),
          ),
        );
        continue;
      }
      await pipeline(entry, pack.entry(entry.header));
    }
    pack.finalize();
  })().catch((err: unknown) => {
    const e = err instanceof Error ? err : new Error(String(err));
    pack.destroy(); // with no error: nothing listens on pack (out carries the error)
    out.destroy(e);
  });
  return out;
}
