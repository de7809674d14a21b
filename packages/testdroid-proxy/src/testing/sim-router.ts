/**
 * @module testing/sim-router
 * A tiny route table for the simulated cloud: `GET devices/:id` patterns, query and
 * form-encoded bodies as URLSearchParams, JSON replies.
 */
export interface SimRequest {
  method: string;
  /** Path without the leading `/`. */
  path: string;
  params: Record<string, string>;
  query: URLSearchParams;
  body: URLSearchParams;
  headers: Record<string, string | string[] | undefined>;
}

export interface SimReply {
  status: number;
  json?: unknown;
}

export type SimHandler = (req: SimRequest) => SimReply;

interface Route {
  method: string;
  regex: RegExp;
  names: string[];
  handler: SimHandler;
}

export class SimRouter {
  private readonly routes: Route[] = [];

  on(method: string, pattern: string, handler: SimHandler): this {
    const names: string[] = [];
    const source = pattern
      .split('/')
      .map((part) => {
        if (!part.startsWith(':')) return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        names.push(part.slice(1));
        return '([^/]+)';
      })
      .join('/');
    this.routes.push({ method, regex: new RegExp(`^${source}$`), names, handler });
    return this;
  }

  /** The reply of the first matching route, or undefined. */
  handle(req: Omit<SimRequest, 'params'>): SimReply | undefined {
    for (const route of this.routes) {
      if (route.method !== req.method) continue;
      const m = route.regex.exec(req.path);
      if (!m) continue;
      const params = Object.fromEntries(route.names.map((n, i) => [n, decodeURIComponent(m[i + 1] ?? '')]));
      return route.handler({ ...req, params });
    }
    return undefined;
  }
}

export const ok = (json: unknown, status = 200): SimReply => ({ status, json });
export const fail = (status: number, message: string): SimReply => ({
  status,
  json: { message, statusCode: status },
});
export const list = <T>(data: T[]): { data: T[]; offset: number; limit: number; total: number } => ({
  data,
  offset: 0,
  limit: data.length,
  total: data.length,
});
