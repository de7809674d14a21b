/**
 * @module images/strip-tags
 * Passes a `docker save` tarball through, streaming, with its names removed (`manifest.json`
 * RepoTags emptied, the legacy `repositories` file dropped, OCI `index.json` name annotations
 * removed), so `docker load` creates an untagged image: a task image can never re-point a tag
 * another task (or the worker's own sidecars) run by, e.g. a tarball carrying `debian:latest`.
 *
 * A header-only pass over the tar format: every other entry's header and data go out as the
 * bytes that came in (no parse and re-pack of gigabytes of layers); only the three small name
 * files are read whole and written again with a new header (size, checksum). A PAX or GNU
 * long-name record goes with the entry it describes.
 */
import { Transform, type Readable, type TransformCallback } from 'node:stream';

const BLOCK = 512;
const NAME_ANNOTATIONS = ['io.containerd.image.name', 'org.opencontainers.image.ref.name'];
/** Name files larger than this are not a docker save's: refused rather than held in memory. */
const MAX_NAME_FILE = 16 << 20;
/** Typeflags of records that describe the next entry (PAX local and global, GNU long name/link). */
const META = new Set(['x', 'g', 'L', 'K']);

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

const cstring = (b: Buffer): string => {
  const end = b.indexOf(0);
  return b.subarray(0, end < 0 ? b.length : end).toString('utf8');
};

/** Entry size: octal, or GNU base-256 when the first byte has its high bit set. */
function sizeOf(header: Buffer): number {
  const field = header.subarray(124, 136);
  if ((field[0] ?? 0) & 0x80) {
    let n = 0;
    for (let i = 1; i < field.length; i++) n = n * 256 + (field[i] ?? 0);
    return n;
  }
  const text = cstring(field).trim();
  if (!/^[0-7]*$/.test(text)) throw new Error('the image tarball has a corrupt tar header (size)');
  return text ? parseInt(text, 8) : 0;
}

function nameOf(header: Buffer): string {
  const name = cstring(header.subarray(0, 100));
  const ustar = header.subarray(257, 262).toString('latin1') === 'ustar';
  const prefix = ustar ? cstring(header.subarray(345, 500)) : '';
  return (prefix ? `${prefix}/${name}` : name).replace(/^\.\//, '');
}

function checksumOk(header: Buffer): boolean {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : (header[i] ?? 0);
  return parseInt(cstring(header.subarray(148, 156)).trim(), 8) === sum;
}

function withSize(header: Buffer, size: number): Buffer {
  const h = Buffer.from(header);
  h.write(`${size.toString(8).padStart(11, '0')}\0`, 124, 12, 'latin1');
  h.fill(32, 148, 156);
  let sum = 0;
  for (const byte of h) sum += byte;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'latin1');
  return h;
}

const padded = (n: number): number => Math.ceil(n / BLOCK) * BLOCK;

class StripTags extends Transform {
  private buf = Buffer.alloc(0);
  /** Data bytes (with padding) of the current entry still to pass through, or to collect. */
  private due = 0;
  private collecting: { header: Buffer; name: string; size: number; parts: Buffer[] } | undefined;
  /** PAX / long-name records waiting for the entry they describe. */
  private meta: Buffer[] = [];
  private metaDue = 0;
  private ended = false;

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    try {
      this.consume(this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk);
      cb();
    } catch (err) {
      cb(err as Error);
    }
  }

  override _flush(cb: TransformCallback): void {
    if (this.buf.length || this.due || this.collecting || this.metaDue)
      return cb(new Error('the image tarball ends in the middle of an entry (truncated download?)'));
    if (this.meta.length) this.push(Buffer.concat(this.meta));
    cb();
  }

  private consume(input: Buffer): void {
    let data = input;
    while (data.length > 0) {
      if (this.ended) {
        this.push(data); // the end-of-archive blocks and whatever follows them
        data = Buffer.alloc(0);
        break;
      }
      if (this.metaDue > 0) {
        const n = Math.min(this.metaDue, data.length);
        this.meta.push(Buffer.from(data.subarray(0, n)));
        if (this.meta.reduce((a, b) => a + b.length, 0) > MAX_NAME_FILE)
          throw new Error('the image tarball has an oversized PAX header');
        this.metaDue -= n;
        data = data.subarray(n);
        continue;
      }
      if (this.due > 0) {
        const n = Math.min(this.due, data.length);
        if (this.collecting) this.collecting.parts.push(Buffer.from(data.subarray(0, n)));
        else this.push(data.subarray(0, n));
        this.due -= n;
        data = data.subarray(n);
        if (this.due === 0 && this.collecting) this.finishCollected();
        continue;
      }
      if (data.length < BLOCK) break;
      const header = data.subarray(0, BLOCK);
      data = data.subarray(BLOCK);
      this.header(Buffer.from(header));
    }
    this.buf = Buffer.from(data);
  }

  private header(header: Buffer): void {
    if (header.every((b) => b === 0)) {
      if (this.meta.length) this.push(Buffer.concat(this.meta.splice(0)));
      this.ended = true;
      this.push(header);
      return;
    }
    if (!checksumOk(header)) throw new Error('the image tarball has a corrupt tar header (checksum)');
    const size = sizeOf(header);
    const type = String.fromCharCode(header[156] ?? 0);
    if (META.has(type)) {
      this.meta.push(header);
      this.metaDue = padded(size);
      return;
    }
    const name = nameOf(header);
    if (name === 'repositories' || name === 'manifest.json' || name === 'index.json') {
      if (size > MAX_NAME_FILE)
        throw new Error(`the image tarball's ${name} is too large to be a docker save's`);
      this.collecting = { header, name, size, parts: [] };
      this.due = padded(size);
      if (this.due === 0) this.finishCollected();
      return;
    }
    if (this.meta.length) this.push(Buffer.concat(this.meta.splice(0)));
    this.push(header);
    this.due = padded(size);
  }

  private finishCollected(): void {
    const c = this.collecting;
    if (!c) return;
    this.collecting = undefined;
    // Its PAX record (mtime and the like; a `size=` in it would contradict the new size) is dropped.
    this.meta = [];
    if (c.name === 'repositories') return;
    const content = rewrite(c.name, Buffer.concat(c.parts).subarray(0, c.size));
    const out = Buffer.alloc(BLOCK + padded(content.length));
    withSize(c.header, content.length).copy(out, 0);
    content.copy(out, BLOCK);
    this.push(out);
  }
}

export async function stripTags(input: Readable): Promise<Readable> {
  const out = new StripTags();
  input.on('error', (err) => out.destroy(err));
  return input.pipe(out);
}
