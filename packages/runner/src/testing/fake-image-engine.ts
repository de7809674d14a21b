/**
 * @module testing/fake-image-engine
 * FakeDocker's image engine: `load` reads the whole stream and names the image by the sha256 of
 * what it read, tags go into FakeDocker's `images` set, `pull` answers 404 as the engine does for
 * a name no registry has, unless a test replaces it. Enough for unit tests of the image sources; e2e uses the engine.
 */
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { DockerError } from '../docker/docker-client.js';
import type { EngineImage, ImageEngine, PullEvent, RegistryAuth } from '../docker/image-engine.js';

export class FakeImageEngine implements ImageEngine {
  /** Loaded images by id, with their tags. */
  readonly loaded = new Map<string, EngineImage>();
  /** Bytes each `load` received, in order. */
  readonly loads: Buffer[] = [];
  constructor(private readonly tags: Set<string>) {}

  /** Every pull asked for, with the credentials it carried. */
  readonly pulls: { name: string; auth?: RegistryAuth }[] = [];

  /** As the engine: a name no registry has is a 404 (tests replace `pull` for other answers). */
  async pull(
    name: string,
    opts?: { auth?: RegistryAuth; onEvent?: (e: PullEvent) => void; signal?: AbortSignal },
  ): Promise<string | undefined> {
    this.pulls.push({ name, ...(opts?.auth ? { auth: opts.auth } : {}) });
    throw new DockerError('pull image', 404, `pull access denied for ${name}`);
  }

  /** The id of the loaded image a tag names (FakeDocker's inspectImage asks). */
  idOf(tag: string): string | undefined {
    for (const image of this.loaded.values()) if (image.repoTags.includes(tag)) return image.id;
    return undefined;
  }
  async load(tar: Readable): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const chunk of tar) chunks.push(chunk as Buffer);
    const bytes = Buffer.concat(chunks);
    this.loads.push(bytes);
    const id = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    this.loaded.set(id, { id, repoTags: [], size: bytes.length, created: 0 });
    return id;
  }
  async tag(id: string, repo: string, tag: string): Promise<void> {
    this.loaded.get(id)?.repoTags.push(`${repo}:${tag}`);
    this.tags.add(`${repo}:${tag}`);
  }
  async list(): Promise<EngineImage[]> {
    return [...this.loaded.values()];
  }
  async remove(id: string): Promise<void> {
    for (const t of this.loaded.get(id)?.repoTags ?? []) this.tags.delete(t);
    this.loaded.delete(id);
  }
  async pruneDangling(): Promise<{ removed: number; bytes: number }> {
    return { removed: 0, bytes: 0 };
  }
  async inUse(): Promise<Set<string>> {
    return new Set();
  }
}
