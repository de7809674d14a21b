// The argv of one `docker-worker run` the benches time: run i of TASK_FILE with the bench's
// worker.json and its own artifacts directory, both under TMP.
import { join } from 'node:path';

export const runArgs = (cli, taskFile, tmp, i) => [
  cli,
  'run',
  taskFile,
  '--task-id',
  `bench-${process.pid}-${i}`,
  '--config',
  join(tmp, 'worker.json'),
  '--artifacts-dir',
  join(tmp, `a${i}`),
];
