// What a bench's workers leave on purpose and the bench removes at its end: each worker's shared
// task network `docker-worker-<workerId>`, the host firewall rules fencing it, and the fence of the
// engine's default bridge (comment `docker-worker:bridge`), which a worker adds when it runs tasks
// there (dockerd --icc=false) and keeps, docker0 never going away.
import { spawnSync } from 'node:child_process';

export function removeWorkerLeftovers(workerIds) {
  const networks = workerIds.map((id) => `docker-worker-${id}`);
  spawnSync('docker', ['network', 'rm', ...networks], { stdio: 'ignore' });
  const comments = [...networks, 'bridge'].map((n) => `"docker-worker:${n}"`);
  const rules = spawnSync('iptables', ['-w', '-S', 'INPUT'], { encoding: 'utf8' }).stdout ?? '';
  for (const rule of rules.split('\n'))
    if (comments.some((c) => rule.includes(c))) {
      const words = [...rule.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2]);
      spawnSync('iptables', ['-w', '-D', ...words.slice(1)], { stdio: 'ignore' });
    }
}
