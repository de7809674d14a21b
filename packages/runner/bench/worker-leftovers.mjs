// What a bench's workers leave on purpose and the bench removes at its end: each worker's shared
// task network `docker-worker-<workerId>`, the host firewall rules fencing it, and the fence of the
// engine's default bridge (comment `docker-worker:bridge`), which a worker adds when it runs tasks
// there (dockerd --icc=false) and keeps, docker0 never going away.
import { spawnSync } from 'node:child_process';
import { iptablesFirewall } from '../dist/index.js';

export async function removeWorkerLeftovers(workerIds) {
  const networks = workerIds.map((id) => `docker-worker-${id}`);
  spawnSync('docker', ['network', 'rm', ...networks], { stdio: 'ignore' });
  const firewall = iptablesFirewall();
  for (const network of [...networks, 'bridge']) await firewall.removeNetwork(network).catch(() => 0);
}
