/**
 * @module commands/keygen-cot
 * `docker-worker keygen-cot --out DIR`: a new ed25519 pair for the chain of trust, as
 * `DIR/cot-signing-key.pem` (PKCS#8, mode 0600: worker config keys.ed25519SigningKey) and
 * `DIR/cot-public-key.pem` (SPKI: what verifiers get). Existing files are never overwritten.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generatePemPair } from '../cot/ed25519.js';
import { fileProblem, UsageError } from '../errors.js';

export const PRIVATE_FILE = 'cot-signing-key.pem';
export const PUBLIC_FILE = 'cot-public-key.pem';

export async function keygenCot(out: string, write: (line: string) => void): Promise<number> {
  const { privatePem, publicPem } = generatePemPair();
  const privatePath = join(out, PRIVATE_FILE);
  const publicPath = join(out, PUBLIC_FILE);
  try {
    await mkdir(out, { recursive: true });
    await writeFile(privatePath, privatePem, { mode: 0o600, flag: 'wx' });
    await writeFile(publicPath, publicPem, { mode: 0o644, flag: 'wx' });
  } catch (err) {
    const what =
      (err as NodeJS.ErrnoException).code === 'EEXIST' ? 'a key pair is already there' : fileProblem(err);
    throw new UsageError(`cannot write the key pair into ${out}: ${what}; choose another --out directory`);
  }
  write(`signing key: ${privatePath} (set keys.ed25519SigningKey to it in the worker config)\n`);
  write(
    `public key:  ${publicPath} (give it to whoever verifies: docker-worker verify-cot --key ${publicPath} ...)\n`,
  );
  return 0;
}
