/**
 * @module docker/image-engine
 * The engine's image operations the image feature and the image GC need (pull with registry
 * credentials and the digest the registry answered, `docker load` from a stream, tag, list,
 * remove, prune dangling, which images containers use), over the dockerode instance that
 * docker-client.ts made. No dockerode type leaves this module.
 */
import type Docker from 'dockerode';
import { pipeline, Transform, type Readable, type TransformCallback } from 'node:stream';
import { DockerError } from './docker-client.js';

/** The size of the chunks a load sends the engine. */
export const LOAD_CHUNK_BYTES = 2 ** 20;

/**
 * Joins a stream's chunks into ones of at least `bytes` (the last may be shorter). The engine's
 * load pays per chunk of the chunked upload: 135 MiB sent in 64 KiB chunks (a download's, a file
 * stream's) took it 631–847 ms, in 1 MiB chunks 430 ms (`docker load -i`: 311–367 ms).
 */
export class Coalesce extends Transform {
  private parts: Buffer[] = [];
  private size = 0;

  constructor(private readonly bytes = LOAD_CHUNK_BYTES) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.parts.push(chunk);
    this.size += chunk.length;
    if (this.size >= this.bytes) this.release();
    cb();
  }

  override _flush(cb: TransformCallback): void {
    if (this.size > 0) this.release();
    cb();
  }

  private release(): void {
    this.push(this.parts.length === 1 ? this.parts[0] : Buffer.concat(this.parts, this.size));
    this.parts = [];
    this.size = 0;
  }
}

/** One event of a pull's progress stream (per layer: `current`/`total` bytes). */
export interface PullEvent {
  id?: string;
  status?: string;
  current?: number;
  total?: number;
}

export interface RegistryAuth {
  username: string;
  password: string;
  serveraddress: string;
}

export interface EngineImage {
  id: string;
  repoTags: string[];
  size: number;
  /** Seconds since the epoch. */
  created: number;
}

export interface ImageEngine {
  /** Pulls `name`; resolves with the manifest digest the registry answered (`sha256:...`). */
  pull(
    name: string,
    opts?: { auth?: RegistryAuth; onEvent?: (e: PullEvent) => void; signal?: AbortSignal },
  ): Promise<string | undefined>;
  /**
   * `docker load` of a tar stream of one untagged image; resolves with its id. A tarball of more
   * than one image is refused (after the load). `signal` ends the upload to the engine.
   */
  load(tar: Readable, opts?: { signal?: AbortSignal }): Promise<string>;
  tag(id: string, repo: string, tag: string): Promise<void>;
  list(): Promise<EngineImage[]>;
  /** Removes an image by id with all its tags (gone already is fine; in use throws 409). */
  remove(id: string): Promise<void>;
  /** Removes dangling images (no tag, no child); resolves with how many and the bytes freed. */
  pruneDangling(): Promise<{ removed: number; bytes: number }>;
  /** Image ids of every container, running or not. */
  inUse(): Promise<Set<string>>;
}

function wrap(operation: string, err: unknown): DockerError {
  if (err instanceof DockerError) return err;
  const e = err as { statusCode?: number; json?: { message?: string }; message?: string };
  return new DockerError(operation, e.statusCode, (e.json?.message ?? e.message ?? String(err)).trim(), {
    cause: err,
  });
}

async function call<T>(operation: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw wrap(operation, err);
  }
}

interface StreamEvent {
  id?: string;
  status?: string;
  stream?: string;
  error?: string;
  progressDetail?: { current?: number; total?: number };
}

function follow(docker: Docker, stream: Readable, onEvent: (e: StreamEvent) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    docker.modem.followProgress(
      stream,
      (err: Error | null) => (err ? reject(err) : resolve()),
      (event: StreamEvent) => {
        if (event.error) reject(new Error(event.error));
        else onEvent(event);
      },
    );
  });
}

export function createImageEngine(docker: Docker): ImageEngine {
  return {
    pull: (name, opts = {}) =>
      call('pull image', async () => {
        const stream = (await docker.pull(name, {
          ...(opts.auth ? { authconfig: opts.auth } : {}),
          ...(opts.signal ? { abortSignal: opts.signal } : {}),
        })) as Readable;
        let digest: string | undefined;
        await follow(docker, stream, (e) => {
          const m = /^Digest: (sha256:[0-9a-f]{64})$/.exec(e.status ?? '');
          if (m) digest = m[1];
          opts.onEvent?.({ id: e.id, status: e.status, ...e.progressDetail });
        });
        return digest;
      }),

    load: (tar, opts = {}) =>
      call('load image', async () => {
        // A tarball that fails on the way (a broken download, a corrupt stream) ends the upload
        // with its own error, not with an engine waiting for the rest.
        const broken = new AbortController();
        const body = pipeline(tar, new Coalesce(), (err) => {
          if (err) broken.abort(err);
        });
        const signal = opts.signal ? AbortSignal.any([opts.signal, broken.signal]) : broken.signal;
        const ids = new Set<string>();
        try {
          const stream = (await docker.loadImage(body, { quiet: true, abortSignal: signal })) as Readable;
          await follow(docker, stream, (e) => {
            for (const m of (e.stream ?? '').matchAll(/Loaded image(?: ID)?: (sha256:[0-9a-f]{64})/g))
              if (m[1]) ids.add(m[1]);
          });
        } catch (err) {
          throw broken.signal.aborted ? (broken.signal.reason as Error) : err;
        }
        const [id, ...more] = [...ids];
        if (!id) throw new Error('the engine loaded no untagged image from the tarball');
        if (more.length > 0)
          throw new Error(
            `the tarball holds ${ids.size} images (${[...ids].join(', ')}); a task image must hold one`,
          );
        return id;
      }),

    tag: (id, repo, tag) =>
      call('tag image', async () => void (await docker.getImage(id).tag({ repo, tag }))),

    list: () =>
      call('list images', async () =>
        (await docker.listImages()).map((i) => ({
          id: i.Id,
          repoTags: (i.RepoTags ?? []).filter((t) => t !== '<none>:<none>'),
          size: i.Size,
          created: i.Created,
        })),
      ),

    remove: (id) =>
      call('remove image', async () => {
        await docker
          .getImage(id)
          .remove({ force: true, noprune: false })
          .catch((err: unknown) => {
            if ((err as { statusCode?: number }).statusCode !== 404) throw err;
          });
      }),

    pruneDangling: () =>
      call('prune images', async () => {
        const r = (await docker.pruneImages({ filters: JSON.stringify({ dangling: ['true'] }) })) as {
          ImagesDeleted?: unknown[] | null;
          SpaceReclaimed?: number;
        };
        return { removed: r.ImagesDeleted?.length ?? 0, bytes: r.SpaceReclaimed ?? 0 };
      }),

    inUse: () =>
      call('list containers', async () => {
        const list = await docker.listContainers({ all: true });
        return new Set(list.map((c) => c.ImageID));
      }),
  };
}
