/**
 * @module docker/shared-network
 * The worker's one task network, `docker-worker-<workerId>`, for every run without a sidecar:
 * creating and removing a network per task cost ~70 ms + ~200 ms of engine time. It is a bridge
 * with inter-container traffic off (`com.docker.network.bridge.enable_icc=false`), so tasks on it
 * cannot reach each other, and the host firewall fences its bridge like a task network's. It
 * outlives runs and processes (role `shared-network`: never swept); runs with a sidecar keep a
 * network of their own, where the task reaches its sidecars by alias.
 */
import type { Logger } from 'pino';
import { internalError } from '../errors.js';
import { DockerError, type DockerClient, type NetworkInfo } from './docker-client.js';
import type { HostFirewall } from './host-firewall.js';
import { LABEL } from './labels.js';

export type SharedNetwork = () => Promise<NetworkInfo>;

export const sharedNetworkName = (workerId: string): string => `docker-worker-${workerId}`;

/**
 * The shared network, found or created (once per process: later calls get the same promise; a
 * failed attempt is forgotten, so the next run tries again).
 */
export function sharedNetwork(opts: {
  docker: DockerClient;
  workerId: string;
  firewall?: HostFirewall;
  log: Logger;
}): SharedNetwork {
  const { docker, workerId, firewall, log } = opts;
  const name = sharedNetworkName(workerId);
  const labels = {
    [LABEL.managed]: 'true',
    [LABEL.workerId]: workerId,
    [LABEL.role]: 'shared-network',
  };
  const ensure = async (): Promise<NetworkInfo> => {
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
    if (firewall && net.bridge) await firewall.isolateShared(net.bridge, name);
    return net;
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
