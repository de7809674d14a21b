/**
 * @module commands/verify-cot
 * `docker-worker verify-cot --key PUBLIC.pem chain-of-trust.json chain-of-trust.json.sig
 * [--artifacts DIR]`: checks the ed25519 signature over the json's exact bytes and, with
 * `--artifacts`, the sha256 of every artifact it lists against `DIR/<artifact name>`. One line
 * per check (`ok` or `FAIL` and why); exit 0 when every check passed, 1 otherwise.
 */
import { readFile } from 'node:fs/promises';
import { resolve, sep } from 'node:path';
import { sha256Of } from '../artifacts/hashing.js';
import { readPublicKey, verifyBytes } from '../cot/ed25519.js';
import { fileProblem, UsageError } from '../errors.js';

export interface VerifyOptions {
  key: string;
  json: string;
  sig: string;
  artifacts?: string;
}

async function read(file: string, what: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (err) {
    throw new UsageError(`cannot read ${what} ${file}: ${fileProblem(err)}`);
  }
}

export async function verifyCot(opts: VerifyOptions, write: (line: string) => void): Promise<number> {
  const key = await readPublicKey(opts.key).catch((err: unknown) => {
    const e = err as NodeJS.ErrnoException;
    throw new UsageError(e.code ? `cannot read the key ${opts.key}: ${fileProblem(e)}` : e.message);
  });
  const json = await read(opts.json, 'the chain of trust');
  const sig = await read(opts.sig, 'the signature');
  let failed = 0;
  const check = (ok: boolean, line: string): void => {
    if (!ok) failed++;
    write(`${ok ? 'ok  ' : 'FAIL'} ${line}\n`);
  };
  const signed = verifyBytes(json, sig, key);
  check(
    signed,
    signed
      ? `signature of ${opts.json} (ed25519, ${opts.key})`
      : `signature of ${opts.json} does not verify with ${opts.key}`,
  );
  let listed: Record<string, { sha256?: unknown }> = {};
  try {
    const parsed = JSON.parse(json.toString('utf8')) as { artifacts?: typeof listed };
    listed = parsed.artifacts ?? {};
  } catch (err) {
    check(false, `${opts.json} is not JSON: ${(err as Error).message}`);
  }
  if (opts.artifacts) {
    const root = resolve(opts.artifacts);
    for (const [name, entry] of Object.entries(listed)) {
      const path = resolve(root, name);
      if (!path.startsWith(root + sep)) {
        check(false, `${name}: the name leaves ${opts.artifacts}`);
        continue;
      }
      const actual = await sha256Of(path).catch((err: unknown) => err as Error);
      if (actual instanceof Error) check(false, `${name}: cannot read ${path}: ${fileProblem(actual)}`);
      else if (actual === entry.sha256) check(true, `${name} sha256 ${actual}`);
      else check(false, `${name}: sha256 is ${actual}, ${opts.json} says ${String(entry.sha256)}`);
    }
  }
  write(
    failed === 0 ? 'chain of trust verified\n' : `chain of trust NOT verified: ${failed} check(s) failed\n`,
  );
  return failed === 0 ? 0 : 1;
}
