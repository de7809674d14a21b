/**
 * @module features/caches
 * payload.cache (name → mount path) backed by named Docker volumes that persist across runs,
 * labelled as caches (the run's clean-up never removes them). Needs docker-worker:cache:<name> or
 * docker-worker:cache:<name>:<workerPoolId>. Each run leases an instance of each cache that no other
 * run holds (`caches/instances.ts`: `<cacheVolumePrefix><name>` when free, as docker-worker gave
 * concurrent tasks a copy each); names outside the volume-name pattern are refused by the payload
 * check, never rewritten. The leases end once the run's containers are removed; after a non-zero
 * exit listed in onExitStatus.purgeCaches, the run's instances are removed then.
 */
import { CacheInstances, cacheVolumeName } from '../caches/instances.js';
import { LABEL } from '../docker/labels.js';
import type { TaskDefinition } from '../task.js';
import type { Feature, Outcome, TaskRun } from './feature.js';
import { assertPoolScopes } from './scope-forms.js';

export { cacheVolumeName };

const caches = (task: TaskDefinition): [string, string][] => Object.entries(task.payload.cache ?? {});

export const cache: Feature = {
  name: 'cache',
  isEnabled: () => true,
  isRequested: (task) => caches(task).length > 0,
  async start(run) {
    const names = caches(run.task).map(([name]) => `docker-worker:cache:${name}`);
    assertPoolScopes(await run.grantScopes(), names, run.config.taskQueueId, "'cache'");
    const instances = CacheInstances.of(run.docker);
    const leased: string[] = [];
    const binds: string[] = [];
    let released: Promise<void> | undefined;
    const release = (): Promise<void> =>
      (released ??= Promise.all(leased.map((v) => instances.release(v))).then(() => undefined));
    try {
      for (const [name, path] of caches(run.task)) {
        const volume = await instances.lease(run.config.cacheVolumePrefix, name, {
          [LABEL.managed]: 'true',
          [LABEL.role]: 'cache',
          [LABEL.cache]: name,
          [LABEL.workerId]: run.config.workerId,
        });
        leased.push(volume);
        const copy =
          volume === cacheVolumeName(run.config.cacheVolumePrefix, name) ? '' : ` (volume ${volume})`;
        run.liveLog.info(`using cache "${name}" -> ${path}${copy}`);
        binds.push(`${volume}:${path}`);
      }
    } catch (err) {
      await release();
      throw err;
    }
    // A task that may purge waits for its containers' removal (the volumes must be free), and the
    // leases end after it; otherwise they end once the removal is over, without holding up the report.
    const purges = (run.task.payload.onExitStatus?.purgeCaches ?? []).length > 0;
    return {
      contribution: { binds },
      ...(purges
        ? {
            afterCleanup: async (outcome: Outcome) => {
              if (purgeAsked(run, outcome)) for (const v of leased) instances.purge(v);
              await release();
            },
          }
        : {
            // The removal has started by now (finish comes after it in both modes).
            finish: async () =>
              void run
                .removeEverything()
                .then(release, release)
                .catch(() => undefined),
          }),
    };
  },
};

/** Whether the exit code is one of onExitStatus.purgeCaches (non-zero); says so in the log. */
function purgeAsked(run: TaskRun, outcome: Outcome): boolean {
  const code = outcome.exitCode;
  const purge = run.task.payload.onExitStatus?.purgeCaches ?? [];
  if (code === null || code === 0 || !purge.includes(code)) return false;
  const names = caches(run.task).map(([name]) => name);
  run.liveLog.info(`Purging caches (exit code ${code} is in onExitStatus.purgeCaches): ${names.join(', ')}`);
  return true;
}
