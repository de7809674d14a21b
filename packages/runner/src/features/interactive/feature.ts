/**
 * @module features/interactive/feature
 * `payload.features.interactive`: a shell in the running task container from a browser. The
 * container's command is wrapped (wrapper.ts) so it stays exec-able after the command ends; a
 * per-run server (server.ts) serves the page and a websocket running `docker exec` with a TTY at
 * an unguessable token, which is redacted from the live log. The reference artifact
 * `interactive.artifactName` points at the page. Stop closes the server and every session.
 */
import { featureEnabled } from '../../config.js';
import { internalError, malformedPayload } from '../../errors.js';
import type { Feature, TaskRun } from '../feature.js';
import { SESSION_ENV, wrapCommand } from './wrapper.js';

export const SHELL_CMD = ['sh', '-c', 'if command -v bash >/dev/null; then exec bash; else exec sh; fi'];

export const interactive: Feature = {
  name: 'interactive',
  isEnabled: (config) => featureEnabled(config, 'interactive'),
  isRequested: (task) => task.payload.features?.interactive === true,
  requiredScopes: () => [['docker-worker:feature:interactive']],
  async start(run) {
    const { task, config } = run;
    const command = task.payload.command ?? [];
    if (command.length === 0)
      throw malformedPayload(
        'payload.features.interactive needs a payload.command to wrap (the image default cannot be kept running); set payload.command',
      );
    const { host, publicHost, artifactName, minTimeSeconds, expirationAfterSessionSeconds } =
      config.interactive;
    const exec = run.docker.exec?.bind(run.docker);
    if (!exec) throw internalError('this Docker client cannot exec (interactive)');
    // The shell server (and ws) is loaded only by a task that asks for it.
    const { newToken, startShellServer } = await import('./server.js');
    const token = newToken();
    run.liveLog.addSecret(token);
    const server = await startShellServer({
      host,
      token,
      title: `${task.taskId}/${task.runId}`,
      openSession: async () => exec(await taskContainer(run), { cmd: SHELL_CMD, env: [`${SESSION_ENV}=1`] }),
      onError: (err) => run.log.warn({ err: err.message }, 'interactive session failed'),
    });
    const url = `http://${publicHost ?? host}:${server.port}/${token}/shell.html`;
    try {
      await run.artifacts.putReference(artifactName, url, {
        contentType: 'text/html',
        expires: task.expires,
      });
    } catch (err) {
      await server.close();
      throw err;
    }
    run.log.info({ port: server.port }, 'interactive shell server listening');
    return {
      contribution: { cmd: wrapCommand(command, minTimeSeconds, expirationAfterSessionSeconds) },
      stop: () => server.close(),
    };
  },
};

/** The run's task container, once it runs. */
async function taskContainer(run: TaskRun): Promise<string> {
  const labels = Object.entries(run.labels('task')).map(([k, v]) => `${k}=${v}`);
  const [found] = await run.docker.listByLabel('container', labels);
  if (!found) throw new Error('the task container is not running yet; try again in a moment');
  return found.id;
}
