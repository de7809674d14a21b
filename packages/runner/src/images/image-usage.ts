/**
 * @module images/image-usage
 * The record of the images this worker pulled or loaded and when a task last used each: the image
 * feature touches an entry whenever a task runs from an image it resolved, the image GC
 * (`src/gc/`) reads it to pick what to remove. Kept in `<workDir>/image-usage.json`, so the
 * `docker-worker gc` command and a restarted worker see what an earlier process recorded. Images
 * the worker found already present (made by the operator) are never recorded, so never collected.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

export interface ImageUse {
  /** The engine's image id (`sha256:...`). */
  id: string;
  /** What the task named (`repo:tag`, `repo@digest`, or the task-image's reserved name). */
  ref: string;
  source: 'pull' | 'load';
  /** Milliseconds since the epoch. */
  lastUsed: number;
  /**
   * Loaded from task artifacts: the reserved name of each artifact (`source.ts`) and the sha256
   * (hex) of that artifact, so a reuse, even by a restarted worker, can still certify it.
   */
  artifacts?: Record<string, string>;
}

const isHashes = (v: unknown): v is Record<string, string> =>
  typeof v === 'object' && v !== null && Object.values(v).every((h) => typeof h === 'string');

export const IMAGE_USAGE_FILE = 'image-usage.json';

export class ImageUsage {
  private readonly entries = new Map<string, ImageUse>();
  private writing: Promise<void> = Promise.resolve();

  private constructor(readonly file: string) {}

  /** Reads `<workDir>/image-usage.json` (absent or unreadable: an empty record). */
  static async open(workDir: string): Promise<ImageUsage> {
    const usage = new ImageUsage(join(workDir, IMAGE_USAGE_FILE));
    try {
      const parsed = JSON.parse(await readFile(usage.file, 'utf8')) as { images?: ImageUse[] };
      for (const e of parsed.images ?? []) {
        if (typeof e?.id !== 'string' || typeof e.lastUsed !== 'number') continue;
        if (e.artifacts !== undefined && !isHashes(e.artifacts)) delete e.artifacts;
        usage.entries.set(e.id, e);
      }
    } catch {
      // a first start, or a torn file: nothing known yet
    }
    return usage;
  }

  /** In memory only (tests, library users without a workDir). */
  static memory(): ImageUsage {
    return new ImageUsage('');
  }

  list(): ImageUse[] {
    return [...this.entries.values()].sort((a, b) => a.lastUsed - b.lastUsed);
  }

  get(id: string): ImageUse | undefined {
    return this.entries.get(id);
  }

  /**
   * Records that a task used `id` now (a new entry, or a later lastUsed for a known one); the
   * artifact hashes of `use` are added to those known.
   */
  async touch(use: ImageUse): Promise<void> {
    const known = this.entries.get(use.id);
    const artifacts =
      known?.artifacts || use.artifacts ? { ...known?.artifacts, ...use.artifacts } : undefined;
    this.entries.set(use.id, {
      ...(known ?? use),
      ref: use.ref,
      lastUsed: use.lastUsed,
      ...(artifacts ? { artifacts } : {}),
    });
    await this.save();
  }

  /** The sha256 of the artifact image `id` was loaded from as `name`, if this record has it. */
  artifactSha256(id: string, name: string): string | undefined {
    const artifacts = this.entries.get(id)?.artifacts;
    return artifacts && Object.hasOwn(artifacts, name) ? artifacts[name] : undefined;
  }

  async forget(id: string): Promise<void> {
    if (this.entries.delete(id)) await this.save();
  }

  /** Writes the whole record atomically (temp file + rename), one write at a time. */
  private save(): Promise<void> {
    if (!this.file) return Promise.resolve();
    const body = JSON.stringify({ images: this.list() }, null, 2);
    this.writing = this.writing
      .catch(() => undefined)
      .then(async () => {
        await mkdir(dirname(this.file), { recursive: true });
        const tmp = `${this.file}.${process.pid}.tmp`;
        await writeFile(tmp, body);
        await rename(tmp, this.file);
      });
    return this.writing;
  }
}
