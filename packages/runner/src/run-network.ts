/**
 * @module run-network
 * Addresses as seen from the containers of a run. A loopback URL (a fake Taskcluster or a
 * simulator on the host) is unreachable from a container, so it becomes the task network's
 * gateway address (the service must listen on 0.0.0.0 or the gateway).
 */
const LOOPBACK = /^(localhost|127(\.\d+){3}|\[::1\]|::1)$/i;

/** `url` as a container on the task network reaches it (no trailing slash). */
export function urlForContainers(url: string, gateway: string | undefined): string {
  const parsed = new URL(url);
  if (!LOOPBACK.test(parsed.hostname) || !gateway) return url.replace(/\/$/, '');
  parsed.hostname = gateway;
  return parsed.toString().replace(/\/$/, '');
}
