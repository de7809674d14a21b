/**
 * @module features/caches
 * payload.cache (name → mount path) backed by named Docker volumes that persist across runs,
 * labelled as caches (the run's clean-up never removes them). Needs docker-worker:cache:<name> or
 * docker-worker:cache:<name>:<workerPoolId>. The volume is `<cacheVolumePrefix><name>`: names
 * outside the volume-name pattern are refused by the payload check, never rewritten.
 * After a non-zero exit listed in onExitStatus.purgeCaches, the task's cache volumes are removed
 * once the run's containers are gone.
 */
import { LABEL } from '../docker/labels.js';
import type { TaskDefinition } from '../task.js';
import type { Feature, Outcome, TaskRun } from './feature.js';
import { assertPoolScopes } from './scope-forms.js';

/** The volume of a cache (the payload check has refused names that are no volume name). */
export const cacheVolumeName = (prefix: string, cache: string): string => `${prefix}${cache}`;

const caches = (task: TaskDefinition): [string, string][] => Object.entries(task.payload.cache ?? {});

export const cache: Feature = {
  name: 'cache',
  isEnabled: () => true,
  isRequested: (task) => caches(task).length > 0,
  async start(run) {
    const names = caches(run.task).map(([name]) => `docker-worker:cache:${name}`);
    assertPoolScopes(run.task.scopes, names, run.config.taskQueueId, "'cache'");
    const binds: string[] = [];
    for (const [name, path] of caches(run.task)) {
      const volume = cacheVolumeName(run.config.cacheVolumePrefix, name);
      await run.docker.createVolume(volume, {
        [LABEL.managed]: 'true',
        [LABEL.role]: 'cache',
        [LABEL.cache]: name,
        [LABEL.workerId]: run.config.workerId,
      });
      run.liveLog.info(`using cache "${name}" -> ${path}`);
      binds.push(`${volume}:${path}`);
    }
    // Only a task that may purge waits for its containers' removal (the volumes must be free).
    const purges = (run.task.payload.onExitStatus?.purgeCaches ?? []).length > 0;
    return {
      contribution: { binds },
      ...(purges ? { afterCleanup: (outcome: Outcome) => purgeIfAsked(run, outcome) } : {}),
    };
  },
};

/** The task container used the volumes: this runs once it is gone. */
async function purgeIfAsked(run: TaskRun, outcome: Outcome): Promise<void> {
  const code = outcome.exitCode;
  const purge = run.task.payload.onExitStatus?.purgeCaches ?? [];
  if (code === null || code === 0 || !purge.includes(code)) return;
  const names = caches(run.task).map(([name]) => name);
  run.liveLog.info(`Purging caches (exit code ${code} is in onExitStatus.purgeCaches): ${names.join(', ')}`);
  for (const name of names) {
    await run.docker.remove({ kind: 'volume', id: cacheVolumeName(run.config.cacheVolumePrefix, name) });
  }
}
