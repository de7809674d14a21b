import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { fakeRun } from '../../testing/fake-run.js';
import { interactive } from './feature.js';
import { newToken, routeOf, startShellServer } from './server.js';
import { wrapCommand } from './wrapper.js';

const run = promisify(execFile);

describe('interactive wrapper', () => {
  it('runs the command through the image sh with the command as its arguments', () => {
    const cmd = wrapCommand(['echo', 'a b'], 5, 60);
    expect(cmd.slice(0, 2)).toEqual(['/bin/sh', '-c']);
    expect(cmd.slice(3)).toEqual(['docker-worker-interactive', 'echo', 'a b']);
    expect(cmd[2]).toContain('-ge 5 ]');
    expect(cmd[2]).toContain('-lt 60 ]');
  });

  it('refuses an empty command', () => {
    expect(() => wrapCommand([], 0, 0)).toThrow(/empty command/);
  });

  it('keeps the command output and exit status (sh on this host)', async () => {
    const [sh, ...args] = wrapCommand(['sh', '-c', 'echo "$1"; exit 3', 'x', 'hello world'], 0, 0);
    const err = (await run(sh!, args).catch((e: unknown) => e)) as { code: number; stdout: string };
    expect(err.code).toBe(3);
    expect(err.stdout).toBe('hello world\n');
  });
});

describe('interactive server', () => {
  it('routes only under the exact token', () => {
    const token = newToken();
    expect(Buffer.from(token, 'base64url')).toHaveLength(24);
    expect(routeOf(`/${token}/shell.html`, token)).toBe('shell.html');
    expect(routeOf(`/${token}/shell.sock?x=1`, token)).toBe('shell.sock');
    expect(routeOf(`/${token.slice(1)}x/shell.html`, token)).toBeUndefined();
    expect(routeOf(`/${token}x/shell.html`, token)).toBeUndefined();
    expect(routeOf(`/${token}/a/b`, token)).toBeUndefined();
    expect(routeOf('/', token)).toBeUndefined();
  });

  it('serves the page and xterm.js under the token, 404 otherwise', async () => {
    const token = newToken();
    const server = await startShellServer({
      host: '127.0.0.1',
      token,
      title: 't',
      openSession: () => Promise.reject(new Error('no container')),
      onError: () => {},
    });
    try {
      const base = `http://127.0.0.1:${server.port}`;
      const page = await fetch(`${base}/${token}/shell.html`);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('shell.sock');
      const js = await fetch(`${base}/${token}/xterm.js`);
      expect(js.status).toBe(200);
      expect((await js.text()).length).toBeGreaterThan(1000);
      expect((await fetch(`${base}/${newToken()}/shell.html`)).status).toBe(404);
      expect((await fetch(`${base}/shell.html`)).status).toBe(404);
    } finally {
      await server.close();
    }
  });
});

describe('interactive feature', () => {
  it('asks for its scope', () => {
    const { run: r } = fakeRun({ payload: { features: { interactive: true }, command: ['true'] } });
    expect(interactive.isRequested(r.task)).toBe(true);
    expect(interactive.requiredScopes?.(r.task, r.config)).toEqual([['docker-worker:feature:interactive']]);
  });

  it('an empty command is malformed-payload saying so', async () => {
    const { run: r } = fakeRun({ payload: { features: { interactive: true }, command: [] } });
    await expect(interactive.start(r)).rejects.toMatchObject({
      resolution: 'malformed-payload',
      message: expect.stringContaining('needs a payload.command'),
    });
  });
});
