/**
 * @module artifacts/local-sink
 * Local mode: each artifact is written to `<dir>/<artifact name>` (names keep their `/`s).
 */
import { createWriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { hashing } from './hashing.js';
import type { ArtifactErrorRecord, ArtifactRecord, ArtifactSink } from './sink.js';

export function createLocalSink(dir: string): ArtifactSink {
  const root = resolve(dir);
  const records: ArtifactRecord[] = [];
  const errors: ArtifactErrorRecord[] = [];
  return {
    records,
    errors,
    async putFile(name, body, meta) {
      const path = resolve(root, name);
      if (!path.startsWith(root + sep))
        throw new Error(`artifact name ${JSON.stringify(name)} leaves the artifacts directory`);
      await mkdir(dirname(path), { recursive: true });
      const hash = hashing();
      await pipeline(body, hash.stream, createWriteStream(path));
      const record = {
        name,
        path,
        contentType: meta.contentType,
        expires: meta.expires.toISOString(),
        sha256: hash.sha256(),
      };
      records.push(record);
      return record;
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
