/**
 * @module e2e/faults/leak-scan
 * Looks for secrets in what a worker wrote: every file under a directory, every artifact of a run
 * (as the queue serves it), the operator log. A secret is looked for in each form the runner's
 * redactor claims to hide (raw, base64 and base64url with and without padding, URL-encoded), so
 * a hit is a leak of something the worker promises to hide.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { QueueSession } from '../queue-harness.js';
import { readArtifact } from './queue-util.js';

/** One body of text the worker wrote, named for the report. */
export interface Source {
  name: string;
  text: string;
}

/** The forms the redactor claims (packages/runner/src/redactor.ts), named. */
export function claimedForms(secret: string): Record<string, string> {
  const b64 = Buffer.from(secret).toString('base64');
  const url = Buffer.from(secret).toString('base64url');
  return {
    raw: secret,
    base64: b64,
    'base64 unpadded': b64.replace(/=+$/, ''),
    base64url: url,
    'base64url padded': `${url}${b64.slice(url.length)}`,
    'url-encoded': encodeURIComponent(secret),
  };
}

/**
 * Every regular file under `dir` (recursively), as text; a missing dir is none. A running worker
 * removes its upload staging files once uploaded (their bytes are scanned as the artifacts they
 * became): one gone between the listing and the read is skipped.
 */
export function filesUnder(dir: string): Source[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names.flatMap((n) => {
    const path = join(dir, n);
    const st = statSync(path, { throwIfNoEntry: false });
    if (!st) return [];
    if (st.isDirectory()) return filesUnder(path);
    if (!st.isFile()) return [];
    try {
      return [{ name: path, text: readFileSync(path, 'latin1') }];
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
  });
}

/** Every artifact of every run of `taskId` the queue has (logs, files, errors), read as the admin. */
export async function runArtifacts(q: QueueSession, taskId: string): Promise<Source[]> {
  const runs = q.tc.queue.statusOf(taskId)?.runs.length ?? 0;
  const out: Source[] = [];
  for (let runId = 0; runId < runs; runId++)
    for (const a of q.tc.queue.artifactsOf(taskId, runId))
      if (a.storageType !== 'reference')
        out.push({
          name: `${taskId}/${runId}/${a.name}`,
          text: await readArtifact(q, taskId, a.name, runId),
        });
  return out;
}

/** `where: form` for each claimed form of each secret found in a source. */
export function leaks(secrets: Record<string, string>, sources: Source[]): string[] {
  const found: string[] = [];
  for (const [what, secret] of Object.entries(secrets))
    for (const [form, text] of Object.entries(claimedForms(secret)))
      for (const s of sources) if (s.text.includes(text)) found.push(`${what} (${form}) in ${s.name}`);
  return found;
}
