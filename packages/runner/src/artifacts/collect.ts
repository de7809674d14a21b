/**
 * @module artifacts/collect
 * Copies one payload artifact out of the stopped task container through Docker's archive API
 * (a tar stream, never held in memory) into the artifact sink: a file, or every regular file of a
 * directory as `<name>/<path inside>`. A top-level symlink is followed; links inside a directory
 * are skipped. Missing → `file-missing-on-worker`; wrong type → `invalid-resource-on-worker`.
 */
import { posix } from 'node:path';
import type { Readable } from 'node:stream';
import { DockerError, type DockerClient } from '../docker/docker-client.js';
import type { LiveLog } from '../live-log-stream.js';
import type { ArtifactSpec } from '../task.js';
import type { ArtifactSink } from './sink.js';

export interface CollectContext {
  docker: DockerClient;
  containerId: string;
  sink: ArtifactSink;
  liveLog: LiveLog;
  expires: Date;
}

const MAX_LINKS = 8;

// mime-types (its database is ~230 kB of code) and tar-stream are loaded by the first run that has
// artifacts, not by every start of the CLI.
// (Both are CommonJS: their exports are the module's default.)
let mime: Promise<typeof import('mime-types')> | undefined;
export const contentTypeOf = async (file: string): Promise<string> =>
  (await (mime ??= import('mime-types').then((m) => m.default))).lookup(file) || 'application/octet-stream';

export async function collectArtifact(ctx: CollectContext, name: string, spec: ArtifactSpec): Promise<void> {
  let path = spec.path;
  for (let hop = 0; hop <= MAX_LINKS; hop++) {
    const archive = await fetchArchive(ctx, path);
    if (!archive) return missing(ctx, name, spec.path);
    const result = await consume(ctx, archive, name, spec.type);
    if (result.kind === 'done') return;
    if (result.kind === 'link') {
      path = posix.resolve(posix.dirname(path), result.target);
      continue;
    }
    ctx.liveLog.error(
      `Artifact "${name}" at "${spec.path}" is a ${result.found}, not a ${spec.type}; fix payload.artifacts.${name}.type or the path`,
    );
    await ctx.sink.putError(name, {
      reason: 'invalid-resource-on-worker',
      message: `"${spec.path}" is a ${result.found}, expected a ${spec.type}`,
      expires: ctx.expires,
    });
    return;
  }
  ctx.liveLog.error(`Artifact "${name}" at "${spec.path}": too many symbolic links`);
  await ctx.sink.putError(name, {
    reason: 'invalid-resource-on-worker',
    message: `"${spec.path}": too many symbolic links`,
    expires: ctx.expires,
  });
}

async function fetchArchive(ctx: CollectContext, path: string): Promise<Readable | undefined> {
  try {
    return await ctx.docker.getArchive(ctx.containerId, path);
  } catch (err) {
    if (err instanceof DockerError && err.statusCode === 404) return undefined;
    throw err;
  }
}

async function missing(ctx: CollectContext, name: string, path: string): Promise<void> {
  ctx.liveLog.info(`Artifact "${name}" not found at "${path}"`);
  await ctx.sink.putError(name, {
    reason: 'file-missing-on-worker',
    message: `Artifact "${name}" not found at "${path}"`,
    expires: ctx.expires,
  });
}

type Consumed = { kind: 'done' } | { kind: 'link'; target: string } | { kind: 'wrong-type'; found: string };

async function consume(
  ctx: CollectContext,
  archive: Readable,
  name: string,
  type: 'file' | 'directory',
): Promise<Consumed> {
  const { default: tarStream } = await import('tar-stream');
  const tar = tarStream.extract();
  archive.on('error', (err) => tar.destroy(err));
  archive.pipe(tar);
  // Whatever ends the loop (a sink that fails, say), the engine's response goes with it: left
  // half-read it would keep its socket, and the process, alive.
  let first: string | undefined;
  let result: Consumed = { kind: 'done' };
  try {
    for await (const entry of tar) {
      const header = entry.header;
      if (first === undefined) {
        first = header.name.replace(/\/$/, '');
        const found = header.type ?? 'file';
        if (found === 'symlink' && header.linkname) result = { kind: 'link', target: header.linkname };
        else if (found !== type) result = { kind: 'wrong-type', found };
      }
      if (result.kind === 'done' && header.type === 'file') {
        const inside = type === 'file' ? '' : posix.relative(first, header.name);
        const artifact = inside ? `${name}/${inside}` : name;
        await ctx.sink.putFile(artifact, entry as unknown as Readable, {
          contentType: await contentTypeOf(header.name),
          expires: ctx.expires,
          size: header.size,
        });
      } else {
        entry.resume();
      }
    }
  } finally {
    if (!archive.readableEnded) archive.destroy();
  }
  return result;
}
