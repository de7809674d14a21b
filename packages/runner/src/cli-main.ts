/**
 * @module cli-main
 * `docker-worker run TASK_FILE ...` (one task on the local engine) and `docker-worker start`
 * (queue mode, a later issue). Parses arguments, reads env vars, builds the real dependencies and
 * turns every user error into one line. Exit: 0 completed, 1 failed, 2 exception, 64 usage.
 */
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { systemClock } from './clock.js';
import { loadConfig, warnIgnoredKeys } from './config.js';
import { createDockerClient } from './docker/docker-client.js';
import { hostFirewallFor, type ProbedFirewall } from './docker/host-firewall.js';
import { sharedNetworkFor } from './docker/shared-network.js';
import { UsageError, workerShutdown } from './errors.js';
import { checkWritableFile, prepareDirectory } from './local/output-paths.js';
import { runLocalTask, type LocalRunResult } from './local/run-local.js';
import { readTaskFile, toTaskDefinition } from './local/task-file.js';
import { payloadErrors } from './features/payload.js';
import type { LiveLogSink } from './live-log-stream.js';
import { createOperatorLog } from './operator-log.js';
import type { TaskRun } from './run-context.js';
import { StageTimer } from './stage-timer.js';
import { VERSION } from './version.js';

const EXIT = { completed: 0, failed: 1, exception: 2, usage: 64 } as const;

interface RunFlags {
  taskId?: string;
  runId?: number;
  artifactsDir?: string;
  config?: string;
  resultJson?: string;
  debug?: boolean;
  withWorkerRunner?: boolean;
}

function runIdArg(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 49)
    throw new InvalidArgumentError('must be an integer from 0 to 49');
  return n;
}

async function run(taskFile: string, flags: RunFlags, early: EarlyWork): Promise<number> {
  const log = await createOperatorLog({ debug: flags.debug === true, level: process.env.LOG_LEVEL });
  const stages = new StageTimer(log);
  // Since the process started: node's own start-up and loading this CLI's modules.
  stages.add('load_modules', performance.now());
  const config = await loadConfig(flags.config);
  warnIgnoredKeys(config, log);
  const task = toTaskDefinition(await readTaskFile(taskFile), {
    taskId: flags.taskId,
    runId: flags.runId,
    now: Date.now(),
  });
  const env = process.env;
  const rootUrl = config.rootUrl || env.TASKCLUSTER_ROOT_URL || '';
  const credentials =
    env.TASKCLUSTER_CLIENT_ID && env.TASKCLUSTER_ACCESS_TOKEN
      ? {
          clientId: env.TASKCLUSTER_CLIENT_ID,
          accessToken: env.TASKCLUSTER_ACCESS_TOKEN,
          certificate: env.TASKCLUSTER_CERTIFICATE || undefined,
        }
      : undefined;
  const wantsProxy =
    (task.payload.features as Record<string, unknown> | undefined)?.taskclusterProxy === true;
  if (wantsProxy && (!credentials || !rootUrl)) {
    throw new UsageError(
      `${taskFile} asks for features.taskclusterProxy, which signs with your Taskcluster credentials: set TASKCLUSTER_ROOT_URL, TASKCLUSTER_CLIENT_ID and TASKCLUSTER_ACCESS_TOKEN (npm run demo runs examples/taskcluster-proxy.yml against a fake Taskcluster)`,
    );
  }
  const docker = createDockerClient();
  // The host firewall's probe (an iptables run) goes on while the engine answers its ping.
  const fencing = stages.time('prepare_executor', () => hostFirewallFor(config, early.firewall), {
    step: 'firewall',
  });
  // A malformed payload resolves malformed-payload without the engine (it would never run).
  if (payloadErrors(task).length === 0) {
    try {
      await stages.time('prepare_executor', () => docker.ping(), { step: 'ping' });
    } catch (err) {
      throw new UsageError(
        `cannot reach the Docker engine (${(err as Error).message}); start it (npm run setup) or set DOCKER_HOST`,
      );
    }
  }
  const artifactsDir = resolve(flags.artifactsDir ?? `artifacts/${task.taskId}`);
  await prepareDirectory(artifactsDir, 'the artifacts directory', 'choose another --artifacts-dir');
  await prepareDirectory(
    config.workDir,
    'the work directory',
    'set workDir in the worker config (--config) to a writable directory',
  );
  if (flags.resultJson) await checkWritableFile(flags.resultJson, '--result-json');
  let current: TaskRun | undefined;
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals): void => {
    if (++signals > 1) process.exit(130);
    log.warn({ signal: sig }, 'stopping the task');
    current?.abort(workerShutdown('Task has been aborted prematurely. Reason: worker-shutdown'));
  };
  process.on('SIGINT', onSignal).on('SIGTERM', onSignal);
  const fenced = await fencing;
  const firewall = fenced.firewall;
  if (!firewall) log.warn({ reason: fenced.reason }, "the task container can reach this host's ports");
  const result = await runLocalTask({
    ...(firewall ? { firewall } : {}),
    task,
    config,
    docker,
    clock: systemClock,
    log,
    artifactsDir,
    liveLogSink: stdoutSink(),
    credentials,
    rootUrl,
    stages,
    sharedNetwork: sharedNetworkFor(config, { docker, log, ...(firewall ? { firewall } : {}) }),
    onRun: (r) => {
      current = r;
      if (signals > 0) r.abort(workerShutdown('Task has been aborted prematurely. Reason: worker-shutdown'));
    },
  });
  if (flags.resultJson) await writeFile(flags.resultJson, `${JSON.stringify(resultJson(result), null, 2)}\n`);
  const where = result.artifacts.length > 0 ? `; artifacts in ${artifactsDir}` : '';
  const reason = result.state === 'exception' ? ` (${result.reasonResolved})` : '';
  process.stderr.write(
    `docker-worker: task ${task.taskId} run ${task.runId} ${result.state}${reason}, exit code ${result.exitCode ?? 'none'}${where}\n`,
  );
  return EXIT[result.state];
}

/** stdout as the live log sink; when the reader goes away (EPIPE) the run goes on, writing only the file. */
function stdoutSink(): LiveLogSink {
  let open = true;
  const waiting = new Set<() => void>();
  process.stdout.on('error', () => {
    open = false;
    for (const fn of waiting) fn();
    waiting.clear();
  });
  return {
    write: (chunk) => (open ? process.stdout.write(chunk) : true),
    once: (_event, fn) => {
      if (!open) return fn();
      const done = (): void => {
        waiting.delete(done);
        fn();
      };
      waiting.add(done);
      process.stdout.once('drain', done);
    },
  };
}

export function resultJson(r: LocalRunResult): Record<string, unknown> {
  return {
    taskId: r.taskId,
    runId: r.runId,
    state: r.state,
    reasonResolved: r.reasonResolved,
    exitCode: r.exitCode,
    durationMs: r.durationMs,
    artifacts: r.artifacts.map(({ name, path, contentType, expires }) => ({
      name,
      path,
      contentType,
      expires,
    })),
    artifactErrors: r.artifactErrors,
  };
}

/** What the entry (cli.ts) started before loading this module. */
export interface EarlyWork {
  /** The host firewall, its probe already running (`docker-worker run` as root). */
  firewall?: ProbedFirewall;
}

export async function main(argv: string[], early: EarlyWork = {}): Promise<number> {
  let code: number = EXIT.usage;
  let debug = argv.includes('--debug');
  const program = new Command('docker-worker')
    .description("Taskcluster's docker-worker: run docker-worker tasks on the local Docker engine")
    .version(VERSION, '-V, --version', 'print the version of docker-worker')
    .exitOverride()
    .configureOutput({
      writeErr: (s) => process.stderr.write(s),
      // commander's own errors (unknown option, missing argument...): one line, prefixed, with the way out
      outputError: (s, write) =>
        write(`docker-worker: ${s.replace(/^error: /, '').trim()}; see docker-worker --help\n`),
    });
  program
    .command('run')
    .description('run one task definition (YAML or JSON) on the local engine; the live log goes to stdout')
    .argument(
      '[TASK_FILE]',
      'task definition: an object with payload, optional scopes, taskId, expires, deadline',
    )
    .option('--task-id <ID>', "task id (default: the file's taskId, or a new slugid)")
    .option('--run-id <N>', 'run id (default 0)', runIdArg)
    .option('--artifacts-dir <DIR>', 'where artifacts land (default ./artifacts/<taskId>/)')
    .option('--config <FILE>', 'worker config, YAML or JSON')
    .option(
      '--result-json <FILE>',
      'write {taskId, runId, state, reasonResolved, exitCode, durationMs, artifacts} here',
    )
    .option('--debug', 'debug operator log and stack traces')
    .option(
      '--with-worker-runner',
      "queue mode started by Taskcluster's worker-runner: --config is the JSON it wrote, no TASK_FILE; its protocol on stdin/stdout",
    )
    .addHelpText(
      'after',
      `
Exit status: 0 completed, 1 failed, 2 exception, 64 usage error.
Environment: TASKCLUSTER_ROOT_URL, TASKCLUSTER_CLIENT_ID, TASKCLUSTER_ACCESS_TOKEN (and TASKCLUSTER_CERTIFICATE)
  are what the taskclusterProxy feature signs with, restricted to the task's scopes; LOG_LEVEL sets the
  operator log level (stderr, default warn). DOCKER_HOST selects the engine.

Examples:
  docker-worker run examples/hello-world.yml
  docker-worker run examples/env-and-artifacts.yml --artifacts-dir out --result-json result.json`,
    )
    .action(async (file: string | undefined, flags: RunFlags) => {
      debug = flags.debug === true;
      if (flags.withWorkerRunner) {
        if (file || !flags.config)
          throw new UsageError(
            'run --with-worker-runner takes the worker-runner JSON as --config FILE and no TASK_FILE',
          );
        const log = await createOperatorLog({ debug, level: process.env.LOG_LEVEL || 'info' });
        const { startWithWorkerRunner } = await import('./worker/with-worker-runner.js');
        code = await startWithWorkerRunner({ configFile: flags.config, log });
        return;
      }
      if (!file) throw new UsageError('run needs a TASK_FILE (see docker-worker run --help)');
      code = await run(file, flags, early);
    });
  program
    .command('start')
    .description('claim tasks from a Taskcluster queue and run them until SIGTERM/SIGINT')
    .requiredOption(
      '--config <FILE>',
      'worker config, YAML or JSON (taskQueueId, workerGroup, workerId, capacity, liveLog...)',
    )
    .option('--once', 'claim one task, run it, resolve it and exit with its status')
    .option('--debug', 'debug operator log and stack traces')
    .addHelpText(
      'after',
      `
Exit status: 0 (with --once: completed), 1 failed, 2 exception, 64 usage error.
Environment: TASKCLUSTER_ROOT_URL, TASKCLUSTER_CLIENT_ID, TASKCLUSTER_ACCESS_TOKEN (and TASKCLUSTER_CERTIFICATE)
  are the worker's credentials; they win over the config's rootUrl and taskcluster.{clientId, accessToken,
  certificate}. LOG_LEVEL sets the operator log level (stderr, default info). DOCKER_HOST selects the engine.
  The first SIGTERM/SIGINT stops claiming (running tasks get shutdown.graceSeconds, then resolve
  exception/worker-shutdown); a second one exits at once.

Example:
  docker-worker start --config worker.yml`,
    )
    .action(async (flags: { config: string; once?: boolean; debug?: boolean }) => {
      debug = flags.debug === true;
      const log = await createOperatorLog({ debug, level: process.env.LOG_LEVEL || 'info' });
      const config = await loadConfig(flags.config);
      const { startWorker } = await import('./worker/start.js');
      code = await startWorker({ config, env: process.env, log, once: flags.once === true });
    });
  program
    .command('keygen-cot')
    .description('write a new ed25519 key pair for the chain of trust feature')
    .requiredOption('--out <DIR>', 'directory for cot-signing-key.pem (0600) and cot-public-key.pem')
    .action(async (flags: { out: string }) => {
      const { keygenCot } = await import('./commands/keygen-cot.js');
      code = await keygenCot(flags.out, (line) => process.stdout.write(line));
    });
  program
    .command('gc')
    .description('remove the images this worker pulled or loaded that are expired, or needed for disk space')
    .option('--config <FILE>', 'worker config, YAML or JSON (workDir, garbageCollection, capacityManagement)')
    .option('--dry-run', 'print what would be removed and the space it would free; remove nothing')
    .option('--debug', 'debug operator log and stack traces')
    .addHelpText('after', '\nOne line per image removed or kept, then the total; exit 0, 64 usage error.')
    .action(async (flags: { config?: string; dryRun?: boolean; debug?: boolean }) => {
      debug = flags.debug === true;
      const log = await createOperatorLog({ debug, level: process.env.LOG_LEVEL });
      const config = await loadConfig(flags.config);
      warnIgnoredKeys(config, log);
      const { gcCommand } = await import('./commands/gc.js');
      const docker = createDockerClient();
      const opts = { config, dryRun: flags.dryRun === true, docker, clock: systemClock, log };
      code = await gcCommand(opts, (line) => process.stdout.write(line));
    });
  program
    .command('verify-cot')
    .description("check a chain of trust's signature and, with --artifacts, every artifact it lists")
    .requiredOption('--key <PUBLIC.pem>', "the signing key pair's public key (SPKI PEM or base64)")
    .argument('<JSON>', 'chain-of-trust.json')
    .argument('<SIG>', 'chain-of-trust.json.sig')
    .option(
      '--artifacts <DIR>',
      'directory holding the artifacts under their names (local mode: the artifacts directory)',
    )
    .addHelpText('after', '\nOne line per check; exit 0 when all pass, 1 when one fails, 64 usage error.')
    .action(async (json: string, sig: string, flags: { key: string; artifacts?: string }) => {
      const { verifyCot } = await import('./commands/verify-cot.js');
      code = await verifyCot({ key: flags.key, json, sig, artifacts: flags.artifacts }, (line) =>
        process.stdout.write(line),
      );
    });
  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : EXIT.usage;
    if (err instanceof UsageError) {
      process.stderr.write(`docker-worker: ${err.message}\n`);
      return EXIT.usage;
    }
    process.stderr.write(
      `docker-worker: internal error: ${(err as Error).message}${debug ? `\n${(err as Error).stack}` : ' (run with --debug for details)'}\n`,
    );
    return EXIT.exception;
  }
}
