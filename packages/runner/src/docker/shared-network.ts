/**
 * @module docker/shared-network
 * The worker's one task network, `docker-worker-<workerId>`, for every run without a sidecar:
 * creating and removing a network per task cost ~70 ms + ~200 ms of engine time. It is a bridge
 * with inter-container traffic off (`com.docker.network.bridge.enable_icc=false`), so tasks on it
 * cannot reach each other, and the host firewall fences its bridge like a task network's. It
 * outlives runs and processes (role `shared-network`: never swept); runs with a sidecar keep a
 * network of their own, where the task reaches its sidecars by alias.
 *
 * When the engine's own default bridge already keeps its containers apart (dockerd `--icc=false`,
 * the usual hardening) the worker uses that instead (`taskContainer.defaultBridge`, on by default):
 * a container on a user-defined network costs the engine its embedded DNS (~45 ms a start on
 * Docker 20.10, measured in run.bench), which a task without sidecars never asks for. The host
 * firewall then fences `docker0`, so no container on the default bridge reaches this host's ports.
 */
import type { Logger } from 'pino';
import type { WorkerConfig } from '../config.js';
import { internalError } from '../errors.js';
import { DockerError, type DockerClient, type NetworkInfo } from './docker-client.js';
import type { HostFirewall } from './host-firewall.js';
import { LABEL } from './labels.js';

export type SharedNetwork = () => Promise<NetworkInfo>;

export const sharedNetworkName = (workerId: string): string => `docker-worker-${workerId}`;

/** The engine's default network (docker0). */
export const DEFAULT_BRIDGE = 'bridge';

/**
 * The shared network, found or created (once per process: later calls get the same promise; a
 * failed attempt is forgotten, so the next run tries again).
 */
export function sharedNetwork(opts: {
  docker: DockerClient;
  workerId: string;
  firewall?: HostFirewall;
  log: Logger;
  /** Use the engine's default bridge when its inter-container traffic is off (default true). */
  defaultBridge?: boolean;
}): SharedNetwork {
  const { docker, workerId, firewall, log } = opts;
  const name = sharedNetworkName(workerId);
  const labels = {
    [LABEL.managed]: 'true',
    [LABEL.workerId]: workerId,
    [LABEL.role]: 'shared-network',
  };
  const fence = async (net: NetworkInfo): Promise<NetworkInfo> => {
    if (firewall && net.bridge) await firewall.isolateShared(net.bridge, net.name);
    return net;
  };
  const ensure = async (): Promise<NetworkInfo> => {
    if (opts.defaultBridge !== false) {
      const engine = await docker.inspectNetwork(DEFAULT_BRIDGE);
      if (engine?.icc === false) {
        log.debug(
          { network: DEFAULT_BRIDGE },
          "tasks without sidecars run on the engine's default bridge (icc off)",
        );
        return fence(engine);
      }
    }
    let net = await docker.inspectNetwork(name);
    if (!net) {
      try {
        net = await docker.createNetwork(name, labels, { icc: false });
        log.info({ network: name }, 'shared task network created');
      } catch (err) {
        // Another process of this worker created it first.
        if (!(err instanceof DockerError && err.statusCode === 409)) throw err;
        net = await docker.inspectNetwork(name);
        if (!net) throw err;
      }
    }
    if (net.icc !== false)
      throw internalError(
        `the network ${name} lets its containers talk to each other (it was not made by docker-worker with com.docker.network.bridge.enable_icc=false); remove it (docker network rm ${name}) and the worker makes it again`,
      );
    return fence(net);
  };
  let current: Promise<NetworkInfo> | undefined;
  return () => {
    current ??= ensure().catch((err: unknown) => {
      current = undefined;
      throw err;
    });
    return current;
  };
}

/**
 * The shared network as the worker config asks for it. A worker that lets tasks reach the host
 * (`taskContainer.blockHostAccess` false) keeps off docker0, which may carry another's fence.
 */
export function sharedNetworkFor(
  config: Pick<WorkerConfig, 'workerId' | 'taskContainer'>,
  deps: { docker: DockerClient; log: Logger; firewall?: HostFirewall },
): SharedNetwork {
  return sharedNetwork({
    ...deps,
    workerId: config.workerId,
    defaultBridge: config.taskContainer.defaultBridge && config.taskContainer.blockHostAccess,
  });
}
