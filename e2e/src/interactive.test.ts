/**
 * features.interactive through `docker-worker run` against the real engine: while the task runs,
 * the shell page's URL (the reference artifact, written next to the artifacts in local mode)
 * opens a `docker exec` TTY over a websocket — a client runs `echo $TASK_ID; exit 3` and reads
 * both; a wrong token is refused; headless Chromium (Debian's) opens the page, types `ls /` and
 * sees `etc` (screenshot in .test-artifacts/). The token never reaches the log.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { newSession } from './docker.js';
import { RunnerSession } from './runner-harness.js';

const ARTIFACTS = fileURLToPath(new URL('../../.test-artifacts/', import.meta.url));

const session = new RunnerSession(`e2e-interactive-${newSession()}`, {
  interactive: { minTimeSeconds: 0, expirationAfterSessionSeconds: 60 },
});
afterAll(() => session.removeAll());

/** One websocket session: sends `input` once open, resolves with its output and exit code. */
function shell(url: string, input: string): Promise<{ output: string; exitCode: number }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    let output = '';
    let exitCode = -1;
    ws.on('open', () => {
      ws.send(JSON.stringify({ type: 'resize', cols: 100, rows: 30 }));
      ws.send(Buffer.from(input));
    });
    ws.on('message', (data, isBinary) => {
      if (isBinary) output += String(data);
      else exitCode = (JSON.parse(String(data)) as { exitCode: number }).exitCode;
    });
    ws.on('close', () => resolve({ output, exitCode }));
    ws.on('error', reject);
  });
}

/** A page expression (it runs in the browser): the terminal's text matches `pattern`. */
const terminalShows = (pattern: string): string =>
  `new RegExp(${JSON.stringify(pattern)}).test(document.querySelector('.xterm-rows')?.textContent ?? '')`;

/** The status a websocket upgrade is answered with when it is refused. */
function refusal(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.on('open', () => reject(new Error('a wrong token was let in')));
    ws.on('error', () => undefined);
  });
}

describe('interactive', () => {
  it('a websocket and a real browser get a shell in the running task; a wrong token is refused', async () => {
    const task = {
      payload: {
        image: 'debian:bookworm-slim',
        maxRunTime: 120,
        command: [
          '/bin/sh',
          '-c',
          'echo waiting; while [ ! -e /tmp/done ]; do sleep 0.2; done; echo finished',
        ],
        features: { interactive: true },
      },
      scopes: ['docker-worker:feature:interactive'],
    };
    const { done, taskId } = session.start(task);
    await session.waitForTaskContainer(taskId);
    const page = readFileSync(
      join(session.dir, 'artifacts-1', 'private/docker-worker/shell.html.url'),
      'utf8',
    ).trim();
    expect(page).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/[\w-]{32}\/shell\.html$/);
    const token = page.split('/')[3]!;
    const sock = page.replace(/^http/, 'ws').replace(/shell\.html$/, 'shell.sock');

    // A wrong token: the page is 404, the websocket refused.
    const wrong = page.replace(token, `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`);
    expect((await fetch(wrong)).status).toBe(404);
    expect(await refusal(wrong.replace(/^http/, 'ws').replace(/shell\.html$/, 'shell.sock'))).toBe(404);

    const ws = await shell(sock, 'echo "id=$TASK_ID"; exit 3\n');
    expect(ws.output).toContain(`id=${taskId}`);
    expect(ws.exitCode).toBe(3);

    const browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
      ],
    });
    try {
      const tab = await browser.newPage({ viewport: { width: 900, height: 500 } });
      await tab.goto(page);
      await tab.locator('.xterm-rows').waitFor();
      await tab.locator('.xterm').click();
      await tab.keyboard.type('ls /');
      await tab.keyboard.press('Enter');
      await tab.waitForFunction(terminalShows('\\betc\\b'));
      mkdirSync(ARTIFACTS, { recursive: true });
      await tab.screenshot({ path: join(ARTIFACTS, 'interactive-shell.png') });
      await tab.keyboard.type('touch /tmp/done; exit');
      await tab.keyboard.press('Enter');
      await tab.waitForFunction(terminalShows('shell exited with 0'));
    } finally {
      await browser.close();
    }

    const r = await done;
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('finished');
    expect(r.result.artifacts.map((a) => a.name)).toContain('private/docker-worker/shell.html');
    expect(r.stdout + r.stderr).not.toContain(token);
    expect(readFileSync(join(r.artifactsDir, 'public/logs/live_backing.log'), 'utf8')).not.toContain(token);
    expect(await session.leftovers(taskId)).toEqual({ containers: 0, networks: 0 });
  }, 90_000);
});
