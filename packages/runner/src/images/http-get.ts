/**
 * @module images/http-get
 * A GET that follows redirects (as fetch does, at most 5) and answers with a Node stream. A task
 * image's download reads hundreds of MiB: node:http's response body costs ~35 % less CPU than
 * fetch's web stream through `Readable.fromWeb` (135 MiB from a loopback server: 487 → 306 ms),
 * and the download shares the worker's one thread with the decompression and the load. Errors
 * name the origin at most, never a signed URL's query.
 */
import http, { type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import https from 'node:https';

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: IncomingMessage;
  /** The body as text (for an error answer). */
  text(): Promise<string>;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

export function httpGet(url: string, signal: AbortSignal, redirects = 5): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    const at = new URL(url);
    const client = at.protocol === 'https:' ? https : at.protocol === 'http:' ? http : undefined;
    if (!client) return reject(new Error(`unsupported URL scheme ${at.protocol} (${at.host})`));
    const req = client.get(at, { signal }, (res) => {
      const status = res.statusCode ?? 0;
      const location = res.headers.location;
      if (REDIRECTS.has(status) && location) {
        res.resume();
        const next = new URL(location, at);
        if (redirects <= 0) return reject(new Error(`too many redirects (the last to ${next.origin})`));
        return void httpGet(next.href, signal, redirects - 1).then(resolve, reject);
      }
      resolve({
        status,
        headers: res.headers,
        body: res,
        text: async () => {
          let text = '';
          res.setEncoding('utf8');
          for await (const chunk of res) text += chunk as string;
          return text;
        },
      });
    });
    req.once('error', reject);
  });
}
