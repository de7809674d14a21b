import { existsSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkWritableFile, prepareDirectory } from './output-paths.js';

const prepareArtifactsDir = (dir: string) =>
  prepareDirectory(dir, 'the artifacts directory', 'choose another --artifacts-dir');

const dir = mkdtempSync(join(tmpdir(), 'output-paths-'));
writeFileSync(join(dir, 'file'), 'x');

describe('output paths', () => {
  it('creates the artifacts directory with its missing parents', async () => {
    await prepareArtifactsDir(join(dir, 'a/b/c'));
    expect(statSync(join(dir, 'a/b/c')).isDirectory()).toBe(true);
    await prepareArtifactsDir(join(dir, 'a/b/c')); // already there: fine
  });

  it('refuses, in one line, a path through a file and a directory it cannot create (no endless mkdir under /proc)', async () => {
    await expect(prepareArtifactsDir(join(dir, 'file'))).rejects.toThrow(
      `cannot use ${join(dir, 'file')} as the artifacts directory: ${join(dir, 'file')} is not a directory; choose another --artifacts-dir`,
    );
    await expect(prepareArtifactsDir(join(dir, 'file/x'))).rejects.toThrow(
      /a part of the path is not a directory \(ENOTDIR\)/,
    );
    await expect(prepareArtifactsDir('/proc/docker-worker-test/x')).rejects.toThrow(
      /^cannot use \/proc\/docker-worker-test\/x as the artifacts directory: .*\(E[A-Z]+\); choose another --artifacts-dir$/,
    );
    expect(existsSync('/proc/docker-worker-test')).toBe(false);
  });

  it('checks the result file can be written before the run', async () => {
    await checkWritableFile(join(dir, 'result.json'), '--result-json');
    await expect(checkWritableFile(dir, '--result-json')).rejects.toThrow(
      `cannot write --result-json ${dir}: it is a directory`,
    );
    await expect(checkWritableFile(join(dir, 'none/result.json'), '--result-json')).rejects.toThrow(
      `${join(dir, 'none')} is not an existing directory`,
    );
  });
});
