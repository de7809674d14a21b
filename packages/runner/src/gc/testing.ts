/**
 * @module gc/testing
 * For the image GC's unit tests: an image engine with images of given sizes, containers that use
 * some of them, removals the engine refuses, and a data root whose free space grows by what is
 * removed; a logger whose lines a test reads.
 */
import { pino, type Logger } from 'pino';
import { DockerError } from '../docker/docker-client.js';
import { FakeImageEngine } from '../testing/fake-image-engine.js';

export class GcEngine extends FakeImageEngine {
  /** Image ids some container uses. */
  readonly used = new Set<string>();
  /** Removals the engine answers with this status code. */
  readonly refuse = new Map<string, number>();
  /** Every removal asked for, in order. */
  readonly removals: string[] = [];
  prunes = 0;
  /** Bytes free on the data root before any removal. */
  baseFree = 0;
  private freed = 0;

  constructor() {
    super(new Set());
  }

  add(id: string, size: number, ...repoTags: string[]): string {
    this.loaded.set(id, { id, repoTags, size, created: 0 });
    return id;
  }

  /** Free bytes of the data root: what it had plus what removals freed. */
  readonly freeBytes = async (): Promise<number> => this.baseFree + this.freed;

  override async inUse(): Promise<Set<string>> {
    return new Set(this.used);
  }
  override async remove(id: string): Promise<void> {
    this.removals.push(id);
    const code = this.refuse.get(id);
    if (code) throw new DockerError('remove image', code, `conflict: unable to delete ${id}`);
    this.freed += this.loaded.get(id)?.size ?? 0;
    await super.remove(id);
  }
  override async pruneDangling(): Promise<{ removed: number; bytes: number }> {
    this.prunes++;
    return { removed: 0, bytes: 0 };
  }
}

export const sha = (n: number): string => `sha256:${n.toString(16).padStart(64, '0')}`;

export function recordingLog(): {
  log: Logger;
  lines: { level: number; msg: string; [k: string]: unknown }[];
} {
  const lines: { level: number; msg: string }[] = [];
  const log = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  return { log, lines };
}
