/**
 * @module images/decompress
 * The decompressor for a task image artifact, chosen by its name: `.tar.zst` and `.tar.lz4`
 * through the `zstd` / `lz4` command when the host has it (`-dc`, a process of its own beside the
 * worker's: docker-worker ran `zstd -d` too; ~3× fzstd's speed here), else in-process: fzstd (pure
 * JS: Node 20's zlib has no zstd) and our frame reader over lz4js's block codec; `.tar` as it is.
 * The libraries are loaded on first use, so the CLI does not load them for every task.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import {
  Duplex,
  PassThrough,
  Transform,
  type Readable,
  type TransformCallback,
  type Writable,
} from 'node:stream';
import { Lz4FrameDecoder } from './lz4-frame.js';

export type ImageFormat = 'tar' | 'zst' | 'lz4';

/** The format a path names, or undefined when it is none of the three. */
export function formatOf(path: string): ImageFormat | undefined {
  if (path.endsWith('.tar.zst')) return 'zst';
  if (path.endsWith('.tar.lz4')) return 'lz4';
  if (path.endsWith('.tar')) return 'tar';
  return undefined;
}

class ZstdDecoder extends Transform {
  private readonly z: { push(chunk: Uint8Array, final?: boolean): void };
  constructor(Decompress: new (ondata: (data: Uint8Array, final: boolean) => void) => ZstdDecoder['z']) {
    super();
    this.z = new Decompress((data) => {
      if (data.length) this.push(Buffer.from(data.buffer, data.byteOffset, data.length));
    });
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    try {
      this.z.push(chunk);
      cb();
    } catch (err) {
      cb(new Error(`the zstd stream is corrupt: ${(err as Error).message}`));
    }
  }
  override _flush(cb: TransformCallback): void {
    try {
      this.z.push(new Uint8Array(0), true);
      cb();
    } catch (err) {
      cb(new Error(`the zstd stream ends early or is corrupt: ${(err as Error).message}`));
    }
  }
}

/** A command's path on PATH (executable), or undefined; looked up once per name. */
const found = new Map<string, string | undefined>();
export function onPath(name: string, path = process.env.PATH ?? ''): string | undefined {
  if (!found.has(name)) {
    let hit: string | undefined;
    for (const dir of path.split(delimiter).filter(Boolean)) {
      try {
        accessSync(join(dir, name), constants.X_OK);
        hit = join(dir, name);
        break;
      } catch {
        // not here
      }
    }
    found.set(name, hit);
  }
  return found.get(name);
}

/**
 * `<command> -dc` as a stream: compressed bytes in, the tar out, with back-pressure both ways. The
 * output ends only once the process exited 0; any other exit is an error naming the stream as
 * corrupt, with the command's last line. Destroyed (the load failed, the run was aborted): killed.
 */
class CommandDecoder extends Duplex {
  private readonly child: ChildProcessByStdio<Writable, Readable, Readable>;
  private stderr = '';

  constructor(command: string, label: string) {
    super();
    const child = spawn(command, ['-dc'], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child = child;
    child.stderr
      .setEncoding('utf8')
      .on('data', (d: string) => (this.stderr = (this.stderr + d).slice(-4000)));
    child.stdout.on('data', (chunk: Buffer) => {
      if (!this.push(chunk)) child.stdout.pause();
    });
    // A process that died early closes its stdin: the exit says why.
    child.stdin.on('error', () => undefined);
    child.once('error', (err) => this.destroy(err));
    child.once('close', (code, signal) => {
      if (code === 0) return void this.push(null);
      if (this.destroyed) return;
      const last = this.stderr.trim().split('\n').at(-1) ?? '';
      const why = last || (signal ? `killed by ${signal}` : `exit status ${code}`);
      this.destroy(new Error(`the ${label} stream is corrupt or ends early (${command}: ${why})`));
    });
  }

  override _read(): void {
    this.child.stdout.resume();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    const { stdin } = this.child;
    if (stdin.destroyed) return cb(); // it exited: 'close' reports how
    if (stdin.write(chunk)) return cb();
    stdin.once('drain', () => cb());
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.child.stdin.end();
    cb();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    cb(err);
  }
}

export interface DecompressOptions {
  /** Use the `zstd` / `lz4` command when it is on PATH (default true). */
  commands?: boolean;
}

export async function decompressor(format: ImageFormat, opts: DecompressOptions = {}): Promise<Duplex> {
  const command = format === 'zst' ? 'zstd' : format === 'lz4' ? 'lz4' : undefined;
  const path = command && opts.commands !== false ? onPath(command) : undefined;
  if (command && path) return new CommandDecoder(path, command);
  if (format === 'zst') {
    const { Decompress } = (await import('fzstd')) as unknown as {
      Decompress: ConstructorParameters<typeof ZstdDecoder>[0];
    };
    return new ZstdDecoder(Decompress);
  }
  if (format === 'lz4') {
    const mod = (await import('lz4js')) as { default?: unknown };
    return new Lz4FrameDecoder((mod.default ?? mod) as ConstructorParameters<typeof Lz4FrameDecoder>[0]);
  }
  return new PassThrough();
}
