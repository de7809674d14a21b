/**
 * @module features/interactive/wrapper
 * The task container's command under `features.interactive`: the image's own `/bin/sh` runs the
 * task's command in the background (TERM/INT forwarded), keeps its exit status, then stays up at
 * least `minTimeSeconds`, and longer while a shell session (an exec whose environment carries
 * `DOCKER_WORKER_SHELL_SESSION`) is alive, at most `expirationAfterSessionSeconds` after the
 * command ended; then exits with the command's status. maxRunTime still bounds it all.
 */
export const SESSION_ENV = 'DOCKER_WORKER_SHELL_SESSION';

const script = (minTime: number, maxTime: number): string =>
  [
    '"$@" <&0 &',
    'pid=$!',
    'trap \'kill -TERM "$pid" 2>/dev/null\' TERM',
    'trap \'kill -INT "$pid" 2>/dev/null\' INT',
    'while :; do wait "$pid"; status=$?; kill -0 "$pid" 2>/dev/null || break; done',
    'waited=0',
    'while [ "$waited" -lt ' + maxTime + ' ]; do',
    '  busy=0',
    '  for f in /proc/[0-9]*/environ; do',
    `    if grep -qs ${SESSION_ENV}= "$f"; then busy=1; break; fi`,
    '  done',
    `  if [ "$busy" = 0 ] && [ "$waited" -ge ${minTime} ]; then break; fi`,
    '  sleep 1; waited=$((waited + 1))',
    'done',
    'exit "$status"',
  ].join('\n');

/** `/bin/sh -c WRAPPER docker-worker-interactive <command…>`; the command must not be empty. */
export function wrapCommand(
  command: readonly string[],
  minTimeSeconds: number,
  maxSeconds: number,
): string[] {
  if (command.length === 0) throw new Error('an empty command cannot be wrapped');
  const max = Math.max(minTimeSeconds, maxSeconds);
  return ['/bin/sh', '-c', script(minTimeSeconds, max), 'docker-worker-interactive', ...command];
}
