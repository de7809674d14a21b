/**
 * @module features/interactive/server
 * One shell server per run on `interactive.host`, a random port: `/<token>/shell.html` (the page),
 * `/<token>/xterm.{js,css}`, and `/<token>/shell.sock` (websocket: binary frames are the TTY's
 * bytes both ways, a text frame `{type:'resize',cols,rows}` resizes, the server sends
 * `{type:'exit',exitCode}` and closes when the exec ends). Any other path or token: 404.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket, type RawData } from 'ws';
import type { ExecSession } from '../../docker/docker-client.js';
import { shellPage, xtermAssets } from './page.js';

export const newToken = (): string => randomBytes(24).toString('base64url');

/** The file the request asks for under the token, or undefined when the token is wrong. */
export function routeOf(url: string | undefined, token: string): string | undefined {
  const [, given, file, ...rest] = (url ?? '').split('?')[0]!.split('/');
  if (!given || !file || rest.length) return undefined;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b) ? file : undefined;
}

export interface ShellServer {
  port: number;
  close(): Promise<void>;
}

export async function startShellServer(opts: {
  host: string;
  token: string;
  title: string;
  openSession: () => Promise<ExecSession>;
  onError: (err: Error) => void;
}): Promise<ShellServer> {
  const { js, css } = await xtermAssets();
  const files: Record<string, [string, string | Buffer]> = {
    'shell.html': ['text/html; charset=utf-8', shellPage(opts.title)],
    'xterm.js': ['text/javascript', js],
    'xterm.css': ['text/css', css],
  };
  const server: Server = createServer((req, res) => {
    const file = files[routeOf(req.url, opts.token) ?? ''];
    if (!file || req.method !== 'GET') return void res.writeHead(404).end('not found\n');
    res.writeHead(200, { 'content-type': file[0], 'cache-control': 'no-store' }).end(file[1]);
  });
  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req: IncomingMessage, socket, head) => {
    if (routeOf(req.url, opts.token) !== 'shell.sock') {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => void session(ws, opts).catch(opts.onError));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, opts.host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      for (const ws of wss.clients) ws.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function session(ws: WebSocket, opts: { openSession: () => Promise<ExecSession> }): Promise<void> {
  // Frames that arrive while the exec starts are kept and replayed in order.
  const early: [RawData, boolean][] = [];
  let handle: (data: RawData, isBinary: boolean) => void = (data, isBinary) => early.push([data, isBinary]);
  ws.on('message', (data: RawData, isBinary: boolean) => handle(data, isBinary));
  let exec: ExecSession;
  try {
    exec = await opts.openSession();
  } catch (err) {
    ws.send(JSON.stringify({ type: 'error', message: (err as Error).message }));
    ws.close(1011);
    return;
  }
  handle = (data, isBinary) => {
    if (isBinary) return void exec.stream.write(data as Buffer);
    try {
      const msg = JSON.parse(String(data)) as { type?: string; cols?: number; rows?: number };
      if (msg.type === 'resize' && Number.isInteger(msg.cols) && Number.isInteger(msg.rows))
        exec.resize(msg.cols!, msg.rows!).catch(() => {});
    } catch {
      // not JSON: ignored
    }
  };
  for (const [data, isBinary] of early.splice(0)) handle(data, isBinary);
  ws.on('close', () => exec.stream.end());
  exec.stream.on('data', (chunk: Buffer) => ws.readyState === ws.OPEN && ws.send(chunk, { binary: true }));
  await new Promise<void>((resolve) => {
    exec.stream.once('end', resolve);
    exec.stream.once('close', resolve);
    exec.stream.once('error', resolve);
  });
  const exitCode = await exec.exitCode().catch(() => -1);
  if (ws.readyState === ws.OPEN) {
    ws.send(JSON.stringify({ type: 'exit', exitCode }));
    ws.close(1000);
  }
}
