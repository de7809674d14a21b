/**
 * @module clients-file
 * Reads the CLI's `--clients-file`: either an array of clients or `{clients: [...], roles: [...]}`.
 * A client is `{clientId, accessToken, scopes, expires?: ISO date, disabled?}`; `tasks` (optional) is
 * `{[taskId]: task definition}` for `queue.task`.
 *
 * The file holds access tokens, so an error names the file, the JSON path and what is wrong
 * (`clients.json: $.clients[1] needs clientId, accessToken (strings) and scopes …: accessToken is
 * missing or not a string`), and never quotes a value: not even
 * through JSON.parse, whose messages can include an excerpt of the text.
 */
import { readFileSync } from 'node:fs';
import { validScope } from 'taskcluster-lib-scopes';
import type { ClientSpec } from './clients.js';
import type { RoleSpec } from './auth/scopes.js';
import type { TaskDefinition } from './tasks.js';

export class ClientsFileError extends Error {
  override readonly name = 'ClientsFileError';
}

const EXPECTED =
  'expected [{"clientId": "...", "accessToken": "...", "scopes": ["..."]}] or {"clients": [...], "roles": [{"roleId": "...", "scopes": [...]}]}';

function bad(file: string, what: string): never {
  throw new ClientsFileError(`${file}: ${what}; ${EXPECTED}`);
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Where JSON.parse stopped, from its message (`at position N`), without the excerpt it may quote. */
function parseProblem(text: string, err: unknown): string {
  const position = /at position (\d+)/.exec(err instanceof Error ? err.message : '')?.[1];
  if (position === undefined) return 'is not valid JSON';
  const before = text.slice(0, Number(position)).split('\n');
  return `is not valid JSON (line ${before.length}, column ${(before.at(-1) ?? '').length + 1})`;
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return bad(file, `cannot be read (${code ?? 'error'})`);
  }
}

/** What is wrong with `o.scopes` (which entry is not a scope, never what it is), or undefined. */
function scopesProblem(o: Json): string | undefined {
  if (!Array.isArray(o.scopes)) return 'scopes is missing or not an array';
  const i = o.scopes.findIndex((s) => !validScope(s));
  return i === -1 ? undefined : `scopes[${i}] is not a valid scope (a string of printable ASCII)`;
}

const notString = (o: Json, key: string): string | undefined =>
  typeof o[key] === 'string' ? undefined : `${key} is missing or not a string`;

export function readClientsFile(file: string): {
  clients: ClientSpec[];
  roles: RoleSpec[];
  tasks: Record<string, TaskDefinition>;
} {
  const text = readText(file);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    return bad(file, parseProblem(text, err));
  }
  const doc: Json | undefined = Array.isArray(parsed)
    ? { clients: parsed }
    : isObject(parsed)
      ? parsed
      : undefined;
  if (!doc) return bad(file, '$ must be an array of clients or an object');
  if (!Array.isArray(doc.clients)) return bad(file, '$.clients must be an array');
  const clients = doc.clients.map((c: unknown, i: number): ClientSpec => {
    const path = `$.clients[${i}]`;
    const problem = isObject(c)
      ? (notString(c, 'clientId') ?? notString(c, 'accessToken') ?? scopesProblem(c))
      : 'it is not an object';
    if (problem || !isObject(c))
      return bad(
        file,
        `${path} needs clientId, accessToken (strings) and scopes (an array of scopes): ${problem}`,
      );
    const { clientId, accessToken, scopes } = c as {
      clientId: string;
      accessToken: string;
      scopes: string[];
    };
    const expires = c.expires === undefined ? undefined : new Date(String(c.expires));
    if (expires && Number.isNaN(expires.getTime())) return bad(file, `${path}.expires must be an ISO date`);
    return { clientId, accessToken, scopes, ...(expires ? { expires } : {}), disabled: c.disabled === true };
  });
  const rolesRaw = doc.roles ?? [];
  if (!Array.isArray(rolesRaw)) return bad(file, '$.roles must be an array');
  const roles = rolesRaw.map((r: unknown, i: number): RoleSpec => {
    const path = `$.roles[${i}]`;
    const problem = isObject(r) ? (notString(r, 'roleId') ?? scopesProblem(r)) : 'it is not an object';
    if (problem || !isObject(r))
      return bad(file, `${path} needs roleId (a string) and scopes (an array of scopes): ${problem}`);
    return { roleId: r.roleId as string, scopes: r.scopes as string[] };
  });
  const tasks = doc.tasks ?? {};
  if (!isObject(tasks)) return bad(file, '$.tasks must be an object {taskId: task definition}');
  for (const [taskId, t] of Object.entries(tasks)) {
    if (!isObject(t))
      return bad(file, `$.tasks[${JSON.stringify(taskId)}] must be an object (a task definition)`);
  }
  return { clients, roles, tasks: tasks as Record<string, TaskDefinition> };
}
