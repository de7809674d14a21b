/**
 * @module worker/live-log-server
 * The worker serves each running task's log itself (no sidecar image): `GET /log/<token>` sends
 * what the log holds so far, then follows it until the task's log is complete. Every reader reads
 * the backing file at its own pace, so many readers at once and slow readers never slow the task.
 * `Range: bytes=N-` (or `N-M`) resumes: 206 from byte N; while the log still grows the end is not
 * known, so that answer has no Content-Range total (`bytes N-*` is not expressible) and ends when
 * the log does; once the log is complete the answer is an ordinary 206 with `Content-Range`.
 * Tokens are unguessable (24 random bytes); an unknown token is a 404. TLS when given cert and key.
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { open, readFile, type FileHandle } from 'node:fs/promises';
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { LiveLog } from '../live-log-stream.js';

export interface LiveLogServerOptions {
  port: number;
  host: string;
  /** How the world reaches this server; default `http(s)://<hostname>:<port>`. */
  publicUrl?: string;
  tls?: { cert?: string; key?: string };
  log: Logger;
}

export interface LiveLogServer {
  /** The public base URL. */
  readonly url: string;
  readonly port: number;
  /** Serves `log` at a new unguessable URL until `unpublish`. */
  publish(log: LiveLog): { url: string; unpublish(): void };
  close(): Promise<void>;
}

const CHUNK = 64 * 1024;

export async function startLiveLogServer(opts: LiveLogServerOptions): Promise<LiveLogServer> {
  const logs = new Map<string, LiveLog>();
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    serve(logs, req, res).catch((err: unknown) => {
      opts.log.warn({ err: String(err) }, 'live log reader failed');
      res.destroy();
    });
  };
  const tls = opts.tls?.cert && opts.tls.key;
  const server: Server = tls
    ? createHttpsServer(
        { cert: await readFile(opts.tls?.cert ?? ''), key: await readFile(opts.tls?.key ?? '') },
        handler,
      )
    : createHttpServer(handler);
  server.listen(opts.port, opts.host);
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const url = (opts.publicUrl || `${tls ? 'https' : 'http'}://${hostname()}:${port}`).replace(/\/$/, '');
  opts.log.info({ url, port }, 'live log server listening');
  return {
    url,
    port,
    publish(log) {
      const token = randomBytes(24).toString('base64url');
      logs.set(token, log);
      return { url: `${url}/log/${token}`, unpublish: () => void logs.delete(token) };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function serve(logs: Map<string, LiveLog>, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const match = /^\/log\/([A-Za-z0-9_-]+)$/.exec(req.url?.split('?')[0] ?? '');
  const log = match?.[1] ? logs.get(match[1]) : undefined;
  if (req.method !== 'GET' && req.method !== 'HEAD') return plain(res, 405, 'only GET and HEAD\n');
  if (!log) return plain(res, 404, 'no such live log (the task may have ended: read the task artifact)\n');
  const range = parseRange(req.headers.range);
  if (range === 'invalid') return plain(res, 416, 'Range must be bytes=N- or bytes=N-M\n');
  let file: FileHandle;
  try {
    file = await open(log.path, 'r');
  } catch {
    return plain(res, 404, 'the live log is gone (the task ended: read the task artifact)\n');
  }
  try {
    const start = range?.start ?? 0;
    const headers: Record<string, string> = {
      'content-type': 'text/plain; charset=utf-8',
      'cache-control': 'no-cache',
      'accept-ranges': 'bytes',
      'x-content-type-options': 'nosniff',
    };
    let end: number | undefined = range?.end; // inclusive
    if (log.complete) {
      const total = log.bytesWritten;
      if (range && start >= total && total > 0) {
        res.writeHead(416, { 'content-range': `bytes */${total}` }).end();
        return;
      }
      end = Math.min(end ?? total - 1, total - 1);
      headers['content-length'] = String(Math.max(0, end - start + 1));
      if (range) headers['content-range'] = `bytes ${start}-${end}/${total}`;
    }
    res.writeHead(range ? 206 : 200, headers);
    if (req.method === 'HEAD') return void res.end();
    await follow(log, file, res, start, end);
    res.end();
  } finally {
    await file.close();
  }
}

/** Copies the file from `start` (to `end`, inclusive) as it grows, until the log is complete. */
async function follow(
  log: LiveLog,
  file: FileHandle,
  res: ServerResponse,
  start: number,
  end?: number,
): Promise<void> {
  let pos = start;
  let gone = false;
  res.once('close', () => (gone = true));
  for (;;) {
    const limit = Math.min(log.bytesWritten, end === undefined ? Infinity : end + 1);
    while (pos < limit && !gone) {
      // A fresh buffer each time: res.write keeps a reference to it until it is sent.
      const buffer = Buffer.allocUnsafe(Math.min(CHUNK, limit - pos));
      const { bytesRead } = await file.read(buffer, 0, buffer.length, pos);
      if (bytesRead === 0) break;
      pos += bytesRead;
      // A reader gone during the read would never emit 'close' again: don't wait for it.
      if (!res.write(buffer.subarray(0, bytesRead)) && !gone) await drained(res);
    }
    if (gone || (end !== undefined && pos > end) || (log.complete && pos >= log.bytesWritten)) return;
    await new Promise<void>((resolve) => {
      const stop = log.onChange(done);
      res.once('close', done);
      if (log.bytesWritten > pos || log.complete) done(); // it changed before we listened
      function done(): void {
        stop();
        res.off('close', done);
        resolve();
      }
    });
  }
}

/**
 * Resolves on 'drain' or 'close', removing both listeners. (`Promise.race` of two `once()` left a
 * 'close' and an 'error' listener behind on every drain: thousands on a long log.)
 */
function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done).off('close', done);
      resolve();
    };
    res.once('drain', done).once('close', done);
  });
}

function parseRange(header: string | undefined): { start: number; end?: number } | 'invalid' | undefined {
  if (!header) return undefined;
  const m = /^bytes=(\d+)-(\d*)$/.exec(header.trim());
  if (!m) return 'invalid';
  const start = Number(m[1]);
  const end = m[2] ? Number(m[2]) : undefined;
  if (end !== undefined && end < start) return 'invalid';
  return end === undefined ? { start } : { start, end };
}

function plain(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' }).end(text);
}
