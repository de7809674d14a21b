/**
 * @module artifacts/local-sink
 * Local mode: each artifact is written to `<dir>/<artifact name>` (names keep their `/`s).
 */
import { createWriteStream } from 'node:fs';
import { copyFile, mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { hashing, sha256Of } from './hashing.js';
import type { ArtifactErrorRecord, ArtifactRecord, ArtifactSink, FileMeta } from './sink.js';

export function createLocalSink(dir: string): ArtifactSink {
  const root = resolve(dir);
  const records: ArtifactRecord[] = [];
  const errors: ArtifactErrorRecord[] = [];
  /** The file of artifact `name`, its directory made. */
  const place = async (name: string): Promise<string> => {
    const path = resolve(root, name);
    if (!path.startsWith(root + sep))
      throw new Error(`artifact name ${JSON.stringify(name)} leaves the artifacts directory`);
    await mkdir(dirname(path), { recursive: true });
    return path;
  };
  const record = (name: string, path: string, meta: FileMeta, sha256: string): ArtifactRecord => {
    const r = { name, path, contentType: meta.contentType, expires: meta.expires.toISOString(), sha256 };
    records.push(r);
    return r;
  };
  return {
    records,
    errors,
    async putFile(name, body, meta) {
      const path = await place(name);
      const hash = hashing();
      await pipeline(body, hash.stream, createWriteStream(path));
      return record(name, path, meta, hash.sha256());
    },
    // A rename when both are on one file system (the work directory and the artifacts directory
    // usually are); else a copy, as putFile. The digest is the caller's when the size it knows is
    // the file's (nothing else wrote to it); else it is read from the file where it is now.
    async moveFile(name, from, meta, known) {
      const path = await place(name);
      try {
        await rename(from, path);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
        await copyFile(from, path);
        await rm(from, { force: true });
      }
      if (known && (await stat(path)).size === known.size) return record(name, path, meta, known.sha256);
      return record(name, path, meta, await sha256Of(path));
    },
    // Local mode serves no live log: references and links are kept as records of where they point;
    // a reference's URL is also written to `<dir>/<name>.url` while the run goes on (the shell page).
    async putReference(name, url, meta) {
      const path = resolve(root, `${name}.url`);
      if (!path.startsWith(root + sep))
        throw new Error(`artifact name ${JSON.stringify(name)} leaves the artifacts directory`);
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, `${url}\n`, { mode: 0o600 });
      records.push({ name, path: url, contentType: meta.contentType, expires: meta.expires.toISOString() });
    },
    async putLink(name, target, meta) {
      records.push({
        name,
        path: resolve(root, target),
        contentType: meta.contentType,
        expires: meta.expires.toISOString(),
      });
    },
    async settle() {},
    async putError(name, error) {
      const record = {
        name,
        reason: error.reason,
        message: error.message,
        expires: error.expires.toISOString(),
      };
      errors.push(record);
      return record;
    },
  };
}
