/**
 * R8: a task with taskclusterProxy (through a real queue worker) tries to widen its scopes with raw
 * HTTP from bash: calls needing scopes it lacks, its own Authorization header, authorizedScopes in
 * a header or the query, `PUT /credentials` without and with a wrong secret (then with a body of
 * admin credentials), and requests toward a foreign host (a second listener of the test on this
 * machine: absolute-URI target, Host header, the hostname form with an IP and port, `//host`,
 * `..` traversal, userinfo). fake-taskcluster records the effective scopes of every request it
 * authenticated: each proxied one is within the task's scopes (plus the run's
 * queue:create-artifact, as the last docker-worker, and the anonymous role every client has); the lacking ones are 403, the credential
 * swaps 401, the foreign host never hears a thing.
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newSession } from '../docker.js';
import { QueueSession } from '../queue-harness.js';
import { runLog } from './queue-util.js';
import { record, scale } from './recorder.js';
import { GATEWAY_SH } from './shell.js';

const session = newSession();
const ROUNDS = scale(1, 3);
const SCOPES = ['auth:current-scopes', 'queue:get-artifact:private/r8/*'];
let q: QueueSession;
let foreign: Server;
let foreignHits = 0;
let tried = 0;
let held = 0;
let upstream = 0;
const bad: string[] = [];

beforeAll(async () => {
  foreign = createServer((req, res) => {
    foreignHits++;
    res.end('foreign');
  }).listen(0, '0.0.0.0');
  await once(foreign, 'listening');
  q = await QueueSession.start(`e2e-fault-r8-${session}`);
});
afterAll(async () => {
  await q?.close();
  foreign?.close();
  record({
    id: 'R8',
    fault:
      'a proxied task widening its scopes: lacking scopes, own Authorization, authorizedScopes header/query, PUT /credentials, foreign hosts x7',
    tried,
    held,
    measured: `${upstream} upstream requests authenticated, every one's effective scopes ⊆ the task's (+ its run's create-artifact, assume:anonymous); lacking → 403, /credentials → 401, foreign host reached 0 times${bad.length ? `; NOT HELD: ${bad.join('; ')}` : ''}`,
  });
});

/**
 * The task's requests (HTTP/1.0 over bash's /dev/tcp to the proxy): `REQ <name> <status>` each, and
 * `BODY <name> <json>` for currentScopes. `name` says what answer holds: ok-* 200, lack-* 403,
 * cred-* 401, far-* anything but 2xx (and no foreign hit).
 */
const SCRIPT = String.raw`
${GATEWAY_SH}
F="$GW:$FPORT"
req() {
  exec 3<>/dev/tcp/taskcluster/80 || { echo "REQ $1 noconn"; return; }
  printf "$2" >&3
  read -r _ st _ <&3
  body=$(tr -d '\r\n' <&3)
  echo "REQ $1 $st"
  case "$1" in ok-*) echo "BODY $1 $(printf '%s' "$body" | grep -o '{"scopes".*')";; esac
  exec 3<&-
}
H='Host: taskcluster\r\n'
req ok-current "GET /api/auth/v1/scopes/current?r8probe=1 HTTP/1.0\r\n$H\r\n"
req ok-own-authorization "GET /api/auth/v1/scopes/current?r8probe=2 HTTP/1.0\r\n$H""Authorization: Hawk id=\"admin\", ts=\"1\", nonce=\"n\", mac=\"m\"\r\n\r\n"
req ok-authorized-scopes-header "GET /api/auth/v1/scopes/current?r8probe=3 HTTP/1.0\r\n$H""X-Taskcluster-Authorized-Scopes: [\"*\"]\r\nauthorizedScopes: [\"*\"]\r\n\r\n"
req ok-authorized-scopes-query "GET /api/auth/v1/scopes/current?r8probe=4&authorizedScopes=%%5B%%22*%%22%%5D HTTP/1.0\r\n$H\r\n"
req lack-expand-scopes "POST /api/auth/v1/scopes/expand?r8probe=5 HTTP/1.0\r\n$H""Content-Type: application/json\r\nContent-Length: 16\r\n\r\n{\"scopes\":[\"*\"]}"
req lack-private-artifact "GET /api/queue/v1/task/$TASK_ID/runs/0/artifacts/private%%2Fother%%2Fx?r8probe=6 HTTP/1.0\r\n$H\r\n"
req cred-no-secret "PUT /credentials HTTP/1.0\r\n$H""Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
req cred-wrong-secret "PUT /credentials HTTP/1.0\r\n$H""Authorization: Bearer not-the-secret\r\nContent-Type: application/json\r\nContent-Length: 59\r\n\r\n{\"clientId\":\"admin\",\"accessToken\":\"admin-token-0123456789\"}"
req ok-after-credentials "GET /api/auth/v1/scopes/current?r8probe=7 HTTP/1.0\r\n$H\r\n"
req far-absolute-uri "GET http://$F/r8probe HTTP/1.0\r\nHost: $F\r\n\r\n"
req far-host-header "GET /r8probe HTTP/1.0\r\nHost: $F\r\n\r\n"
req far-hostname-form "GET /$F/r8probe HTTP/1.0\r\n$H\r\n"
req far-scheme-relative "GET //$F/r8probe HTTP/1.0\r\n$H\r\n"
req far-dotdot "GET /api/queue/v1/../../../$F/r8probe HTTP/1.0\r\n$H\r\n"
req far-userinfo "GET /taskcluster@$F/r8probe HTTP/1.0\r\n$H\r\n"
req far-dns-name "GET /foreign.example/r8probe HTTP/1.0\r\n$H\r\n"
echo R8-DONE
`;

/** `have` is granted by `by` (exact, or a `*` suffix). */
const within = (have: string, by: string[]): boolean =>
  by.some((s) => s === have || (s.endsWith('*') && have.startsWith(s.slice(0, -1))));

describe('R8: the proxy under a task that widens its scopes', () => {
  it(`${ROUNDS} round(s) of 16 tricks: effective scopes ⊆ the task's; refused`, async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const worker = await q.startWorker({});
      const mark = q.tc.requests.length;
      const fport = (foreign.address() as AddressInfo).port;
      const taskId = await q.createTask(
        {
          command: ['/bin/bash', '-c', SCRIPT],
          features: { taskclusterProxy: true },
          env: { FPORT: String(fport) },
        },
        { scopes: SCOPES },
      );
      expect(await q.resolved(taskId)).toBe('completed');
      const log = await runLog(q, taskId);
      expect(log).toContain('R8-DONE');
      // Every client holds the anonymous role (a deployment's public scopes), as in Taskcluster.
      const allowed = [...SCOPES, `queue:create-artifact:${taskId}/0`, 'assume:anonymous'];
      const want = (name: string, st: string): boolean =>
        name.startsWith('ok-')
          ? st === '200'
          : name.startsWith('lack-')
            ? st === '403'
            : name.startsWith('cred-')
              ? st === '401'
              : /^[345]\d\d$/.test(st);
      for (const line of log.split('\n').filter((l) => l.startsWith('REQ '))) {
        const [, name = '', st = ''] = line.split(' ');
        tried++;
        const wrong = want(name, st) ? [] : [`${name} answered ${st}`];
        if (name.startsWith('ok-')) {
          const body =
            log
              .split('\n')
              .find((l) => l.startsWith(`BODY ${name} `))
              ?.slice(name.length + 6) ?? '';
          const scopes = (JSON.parse(body || '{"scopes":["(no body)"]}') as { scopes: string[] }).scopes;
          for (const s of scopes) if (!within(s, allowed)) wrong.push(`${name} has ${s}`);
        }
        if (wrong.length === 0) held++;
        else bad.push(...wrong);
      }
      // Upstream: every request the proxy made for the task, as fake-taskcluster authenticated it.
      const proxied = q.tc.requests.slice(mark).filter((r) => r.path.includes('r8probe'));
      expect(proxied.filter((r) => r.scopes.length > 0).length).toBe(7);
      for (const r of proxied) {
        if (r.scopes.length > 0) upstream++;
        for (const s of r.scopes) if (!within(s, allowed)) bad.push(`upstream ${r.path} had ${s}`);
      }
      expect(foreignHits).toBe(0);
      worker.child.kill('SIGTERM');
      expect(await worker.exited).toBe(0);
    }
    expect(tried).toBe(16 * ROUNDS);
    expect(bad).toEqual([]);
    expect(await q.leftovers()).toEqual({ containers: 0, networks: 0 });
  });
});
