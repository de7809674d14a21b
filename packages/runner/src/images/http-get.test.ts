import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpGet } from './http-get.js';

let server: Server;
let base = '';
const hold = new Set<() => void>();

beforeAll(async () => {
  server = createServer((req, res) => {
    const url = req.url ?? '/';
    if (url === '/artifact') return void res.writeHead(303, { location: '/storage/blob?sig=secret' }).end();
    if (url === '/loop') return void res.writeHead(302, { location: '/loop' }).end();
    if (url.startsWith('/storage/blob')) {
      res.writeHead(200, { 'content-length': '11' });
      return void res.end('hello world');
    }
    if (url === '/gzipped') {
      const bytes = gzipSync(Buffer.from('stored gzip-encoded'));
      return void res
        .writeHead(200, { 'content-encoding': 'gzip', 'content-length': bytes.length })
        .end(bytes);
    }
    if (url === '/packed') return void res.writeHead(200, { 'content-encoding': 'pack200' }).end('x');
    if (url === '/slow') {
      res.writeHead(200);
      res.write('partial');
      return void hold.add(() => res.end());
    }
    res.writeHead(404, { 'content-type': 'application/json' }).end('{"message":"no such artifact"}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const end of hold) end();
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

const read = async (body: AsyncIterable<Buffer>): Promise<string> => {
  let s = '';
  for await (const c of body) s += c.toString();
  return s;
};

describe('httpGet', () => {
  it('follows a relative 303 to the stored bytes, with their headers, as a Node stream', async () => {
    const res = await httpGet(`${base}/artifact`, new AbortController().signal);
    expect(res.status).toBe(200);
    expect(res.headers['content-length']).toBe('11');
    expect(await read(res.body)).toBe('hello world');
  });

  it('answers other statuses as they are, with their body as text', async () => {
    const res = await httpGet(`${base}/missing`, new AbortController().signal);
    expect(res.status).toBe(404);
    expect(await res.text()).toBe('{"message":"no such artifact"}');
  });

  it('decodes a gzip content-encoding (as fetch does); refuses one it does not know', async () => {
    const res = await httpGet(`${base}/gzipped`, new AbortController().signal);
    expect(await read(res.body)).toBe('stored gzip-encoded');
    await expect(httpGet(`${base}/packed`, new AbortController().signal)).rejects.toThrow(
      'unsupported content-encoding pack200 (from 127.0.0.1:',
    );
  });

  it('gives up after 5 redirects, naming the origin only', async () => {
    await expect(httpGet(`${base}/loop`, new AbortController().signal)).rejects.toThrow(
      `too many redirects (the last to ${base})`,
    );
  });

  it('refuses a scheme other than http and https', async () => {
    await expect(httpGet('ftp://example.invalid/x', new AbortController().signal)).rejects.toThrow(
      'unsupported URL scheme ftp: (example.invalid)',
    );
  });

  it('an abort ends the download: its body errors', async () => {
    const controller = new AbortController();
    const res = await httpGet(`${base}/slow`, controller.signal);
    const reading = read(res.body);
    controller.abort();
    await expect(reading).rejects.toThrow('aborted');
  });
});
