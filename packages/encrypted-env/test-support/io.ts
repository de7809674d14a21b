/** An in-memory CliIo for running `main()` in-process. */
import type { CliIo } from '../src/cli-io.js';

export interface FakeIo {
  io: CliIo;
  stdout: () => string;
  stderr: () => string;
}

export function fakeIo(opts: { stdin?: string; now?: number } = {}): FakeIo {
  let out = '';
  let err = '';
  return {
    io: {
      stdout: (t) => void (out += t),
      stderr: (t) => void (err += t),
      readStdin: async () => opts.stdin ?? '',
      stdinIsTTY: opts.stdin === undefined,
      now: () => opts.now ?? Date.now(),
    },
    stdout: () => out,
    stderr: () => err,
  };
}
