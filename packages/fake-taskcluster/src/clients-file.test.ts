import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ClientsFileError, readClientsFile } from './clients-file.js';

const TOKEN = 'tok-SECRET-0123456789abcdef';
const dir = mkdtempSync(join(tmpdir(), 'clients-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
function file(text: string): string {
  const path = join(dir, `clients-${n++}.json`);
  writeFileSync(path, text);
  return path;
}
function errorOf(path: string): string {
  try {
    readClientsFile(path);
  } catch (err) {
    expect(err).toBeInstanceOf(ClientsFileError);
    return (err as Error).message;
  }
  throw new Error('expected readClientsFile to throw');
}

describe('readClientsFile', () => {
  it('reads clients, roles and tasks', () => {
    const path = file(
      JSON.stringify({
        clients: [
          { clientId: 'w', accessToken: TOKEN, scopes: ['queue:*'], expires: '2030-01-01T00:00:00Z' },
        ],
        roles: [{ roleId: 'anonymous', scopes: ['queue:ping'] }],
        tasks: { T1: { payload: {} } },
      }),
    );
    expect(readClientsFile(path)).toEqual({
      clients: [
        {
          clientId: 'w',
          accessToken: TOKEN,
          scopes: ['queue:*'],
          expires: new Date('2030-01-01T00:00:00Z'),
          disabled: false,
        },
      ],
      roles: [{ roleId: 'anonymous', scopes: ['queue:ping'] }],
      tasks: { T1: { payload: {} } },
    });
  });

  it.each([
    // JSON.parse would quote the text around the error: the token
    [`{"clients": [{"clientId": "w", "accessToken": ${TOKEN}}]}`, 'is not valid JSON'],
    [`${TOKEN}`, 'is not valid JSON'],
    [`[\n  {"clientId": "w",\n   "accessToken": "${TOKEN}\u0001"}]`, 'is not valid JSON (line 3, column'],
    [
      JSON.stringify([{ clientId: 'w', accessToken: 42, scopes: [] }]),
      '$.clients[0] needs clientId, accessToken (strings) and scopes (an array of scopes): accessToken is missing or not a string',
    ],
    [
      JSON.stringify([{ clientId: 'w', accessToken: TOKEN, scopes: TOKEN }]),
      '$.clients[0] needs clientId, accessToken (strings) and scopes (an array of scopes): scopes is missing or not an array',
    ],
    [
      JSON.stringify([{ clientId: 'w', accessToken: 'x', scopes: ['ok', `${TOKEN}\n`] }]),
      '$.clients[0] needs clientId, accessToken (strings) and scopes (an array of scopes): scopes[1] is not a valid scope',
    ],
    [
      JSON.stringify([{ clientId: 'w', accessToken: 'x', scopes: [], expires: TOKEN }]),
      '$.clients[0].expires must be an ISO date',
    ],
    [JSON.stringify({ clients: TOKEN }), '$.clients must be an array'],
    [
      JSON.stringify({ clients: [], roles: [{ roleId: TOKEN, scopes: [`${TOKEN}\u0007`] }] }),
      '$.roles[0] needs roleId (a string) and scopes (an array of scopes): scopes[0] is not a valid scope',
    ],
    [JSON.stringify({ clients: [], tasks: { T1: TOKEN } }), '$.tasks["T1"] must be an object'],
  ])('names the file, the JSON path and the problem, never the value: %s', (text, problem) => {
    const path = file(text);
    const message = errorOf(path);
    expect(message.startsWith(`${path}: `)).toBe(true);
    expect(message).toContain(problem);
    expect(message).not.toContain(TOKEN);
    expect(message).not.toContain('SECRET');
  });

  it('says a missing file cannot be read, with its code', () => {
    expect(errorOf(join(dir, 'missing.json'))).toMatch(/missing\.json: cannot be read \(ENOENT\)/);
  });
});
