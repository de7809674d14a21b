/**
 * @module upstream-probe
 * Is the upstream answering? One GET to the proxied server with a short timeout; any HTTP status
 * counts as reachable (balrog's admin API answers 401 without credentials).
 */
import http from 'node:http';
import https from 'node:https';

export interface UpstreamStatus {
  reachable: boolean;
  /** The HTTP status the upstream answered with, when it answered. */
  status?: number;
  /** Why it is not reachable (an error code or message), when it is not. */
  error?: string;
}

export type UpstreamProbe = () => Promise<UpstreamStatus>;

export function createUpstreamProbe(target: URL, timeoutMs: number): UpstreamProbe {
  const request = target.protocol === 'https:' ? https.request : http.request;
  return () =>
    new Promise((resolve) => {
      const req = request(target, { method: 'GET', timeout: timeoutMs }, (res) => {
        res.resume();
        resolve({ reachable: true, status: res.statusCode ?? 0 });
      });
      req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
      req.on('error', (err: Error & { code?: string }) =>
        resolve({ reachable: false, error: err.code ?? err.message }),
      );
      req.end();
    });
}
