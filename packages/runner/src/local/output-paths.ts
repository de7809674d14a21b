/**
 * @module local/output-paths
 * Checks, before a local run starts, that its outputs can be written: the artifacts and work
 * directories (created one level at a time: Node's recursive mkdir spins forever under /proc) and
 * the --result-json file's directory. A problem is a one-line UsageError, not a failure after the run.
 */
import { constants } from 'node:fs';
import { access, mkdir, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileProblem, UsageError } from '../errors.js';

async function isDirectory(path: string): Promise<boolean | undefined> {
  try {
    return (await stat(path)).isDirectory();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/**
 * Creates `dir` (and missing parents) and checks that it is a writable directory. `what` names it
 * in the message (`the artifacts directory`), `fix` says how to mend it.
 */
export async function prepareDirectory(dir: string, what: string, fix: string): Promise<void> {
  const fail = (why: string): UsageError => new UsageError(`cannot use ${dir} as ${what}: ${why}; ${fix}`);
  const missing: string[] = [];
  let at = resolve(dir);
  try {
    for (let found = await isDirectory(at); found !== true; found = await isDirectory(at)) {
      if (found === false) throw fail(`${at} is not a directory`);
      missing.unshift(at);
      if (dirname(at) === at) break;
      at = dirname(at);
    }
    for (const path of missing) await mkdir(path);
    await access(resolve(dir), constants.W_OK);
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw fail(fileProblem(err));
  }
}

/** Checks that `file` can be created or overwritten. */
export async function checkWritableFile(file: string, flag: string): Promise<void> {
  const fail = (why: string): UsageError =>
    new UsageError(`cannot write ${flag} ${file}: ${why}; give a path in an existing, writable directory`);
  try {
    if ((await isDirectory(file)) === true) throw fail('it is a directory');
    if ((await isDirectory(dirname(resolve(file)))) !== true)
      throw fail(`${dirname(resolve(file))} is not an existing directory`);
    await access(dirname(resolve(file)), constants.W_OK);
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw fail(fileProblem(err));
  }
}
