/**
 * @module cloud/http
 * The transport under the Testdroid client: Bearer tokens from the OAuth password grant (refreshed
 * when less than a minute is left), form-encoded POST bodies, bounded retries with exponential
 * backoff on 5xx and network errors, and a clear {@link CloudError} for every failure.
 *
 * Only calls that are safe to repeat are retried: GET, HEAD, PUT, DELETE, the OAuth grant, and
 * calls marked `idempotent` (releasing a session, aborting a run). A POST that creates or starts
 * something (a device session, a run) may have been done by the cloud even when it answers 5xx or
 * the answer is lost; repeating it could lock a second phone. Such a failure is thrown at once as a
 * `CloudError` with `unsure: true`, for the caller to look before it repeats anything.
 */
import { CloudError, detailOf, scrub } from './cloud-error.js';
import type { TokenResponse } from './types.js';

export interface CloudHttpOptions {
  /** Base URL of the cloud, e.g. `https://cloud.testdroid.com/` (a missing final `/` is added). */
  cloudUrl: string;
  username: string;
  password: string;
  /** Extra attempts after a 5xx or network error (default 3). */
  retries?: number;
  /** First backoff delay; doubles per retry (default 500 ms). */
  retryBaseMs?: number;
  /** Per-attempt timeout (default 30 s). */
  timeoutMs?: number;
  userAgent?: string;
  fetch?: typeof fetch;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export type Query = Record<string, string | number | undefined>;
export type Form = Record<string, string | number> | [string, string][];

interface RequestOptions {
  query?: Query;
  form?: Form;
  /** Safe to repeat although the method is POST (the end state is the same). */
  idempotent?: boolean;
}

const SAFE_TO_REPEAT = new Set(['GET', 'HEAD', 'PUT', 'DELETE']);

interface Token {
  access: string;
  refresh: string;
  expiresAt: number;
}

const REFRESH_MARGIN_MS = 60_000;

export class CloudHttp {
  readonly baseUrl: string;
  private readonly opts: Required<Omit<CloudHttpOptions, 'cloudUrl'>>;
  private token: Token | undefined;

  constructor(options: CloudHttpOptions) {
    // fetch refuses URLs with user:password; the credentials come from the options anyway
    const base = new URL(options.cloudUrl);
    base.username = '';
    base.password = '';
    this.baseUrl = base.href.endsWith('/') ? base.href : `${base.href}/`;
    this.opts = {
      username: options.username,
      password: options.password,
      retries: options.retries ?? 3,
      retryBaseMs: options.retryBaseMs ?? 500,
      timeoutMs: options.timeoutMs ?? 30_000,
      userAgent: options.userAgent ?? 'docker-worker-testdroid-proxy/0.1.0',
      fetch: options.fetch ?? ((input, init) => fetch(input, init)),
      now: options.now ?? Date.now,
      sleep: options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms))),
    };
  }

  /** Calls `<cloudUrl>api/v2/<path>` with a Bearer token; a 401 gets one fresh token and one retry. */
  async api<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const url = this.url(`api/v2/${path}`, options.query);
    const retry = SAFE_TO_REPEAT.has(method) || options.idempotent === true;
    let access = await this.accessToken();
    // a 401 is answered before anything is done, so that one repeat is safe for every call
    let res = await this.send(method, url, path, access, options.form, retry);
    if (res.status === 401) {
      await res.body?.cancel();
      if (this.token) this.token.expiresAt = 0; // refresh (or log in again), then one retry
      access = await this.accessToken();
      res = await this.send(method, url, path, access, options.form, retry);
    }
    return this.parse<T>(res, method, path, retry);
  }

  private async accessToken(): Promise<string> {
    const t = this.token;
    if (t && t.expiresAt - this.opts.now() > REFRESH_MARGIN_MS) return t.access;
    if (t) {
      try {
        return await this.grant([
          ['grant_type', 'refresh_token'],
          ['refresh_token', t.refresh],
        ]);
      } catch {
        // a refused refresh falls back to the password grant
      }
    }
    return this.grant([
      ['grant_type', 'password'],
      ['username', this.opts.username],
      ['password', this.opts.password],
    ]);
  }

  private async grant(fields: [string, string][]): Promise<string> {
    const form: [string, string][] = [['client_id', 'testdroid-cloud-api'], ...fields];
    // a second token is harmless: the grant is safe to repeat
    const res = await this.send('POST', this.url('oauth/token'), 'oauth/token', undefined, form, true);
    if (res.status === 400 || res.status === 401) {
      const detail = this.clean(detailOf(await res.text()));
      throw new CloudError(
        res.status,
        `Testdroid cloud refused the login of user "${this.opts.username}" (${res.status}${detail ? ` ${detail}` : ''}); check the username and password`,
      );
    }
    const body = await this.parse<TokenResponse>(res, 'POST', 'oauth/token');
    if (typeof body.access_token !== 'string' || typeof body.expires_in !== 'number') {
      throw new CloudError(
        res.status,
        'Testdroid cloud answered POST oauth/token without access_token/expires_in',
      );
    }
    this.token = {
      access: body.access_token,
      refresh: body.refresh_token,
      expiresAt: this.opts.now() + body.expires_in * 1000,
    };
    return body.access_token;
  }

  private url(path: string, query?: Query): string {
    const url = new URL(path, this.baseUrl);
    for (const [k, v] of Object.entries(query ?? {}))
      if (v !== undefined) url.searchParams.append(k, String(v));
    return url.toString();
  }

  private async send(
    method: string,
    url: string,
    path: string,
    bearer: string | undefined,
    form: Form | undefined,
    retry: boolean,
  ): Promise<Response> {
    const headers: Record<string, string> = { accept: 'application/json', 'user-agent': this.opts.userAgent };
    if (bearer) headers.authorization = `Bearer ${bearer}`;
    let body: string | undefined;
    if (form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(form as Record<string, string>).toString();
    }
    const attempts = retry ? this.opts.retries : 0;
    for (let attempt = 0; ; attempt++) {
      const last = attempt >= attempts;
      try {
        const res = await this.opts.fetch(url, {
          method,
          headers,
          body,
          signal: AbortSignal.timeout(this.opts.timeoutMs),
        });
        if (res.status < 500 || last) return res;
        await res.body?.cancel();
      } catch (err) {
        if (last) {
          throw new CloudError(
            undefined,
            `Testdroid cloud at ${this.origin()} is unreachable (${method} ${path}, ${attempt + 1} attempt${attempt === 0 ? '' : 's'}): ${this.clean(causeOf(err))}${retry ? '' : notRepeated(method, path)}`,
            { cause: err, unsure: !retry },
          );
        }
      }
      await this.opts.sleep(this.opts.retryBaseMs * 2 ** attempt);
    }
  }

  private async parse<T>(res: Response, method: string, path: string, retried = true): Promise<T> {
    const text = await res.text();
    if (!res.ok) {
      const detail = this.clean(detailOf(text));
      const unsure = !retried && res.status >= 500;
      throw new CloudError(
        res.status,
        `Testdroid cloud answered ${method} ${path} with ${res.status} ${res.statusText}${detail ? `: ${detail}` : ''}${unsure ? notRepeated(method, path) : ''}`,
        { unsure },
      );
    }
    if (text.trim() === '') return undefined as T;
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new CloudError(
        res.status,
        `Testdroid cloud answered ${method} ${path} with a body that is not JSON`,
      );
    }
  }

  private origin(): string {
    return this.baseUrl;
  }

  private clean(text: string): string {
    return scrub(text, [this.opts.password, this.token?.access, this.token?.refresh]);
  }
}

function notRepeated(method: string, path: string): string {
  return ` (not retried: ${method} ${path} is not safe to repeat, and the cloud may have done it)`;
}

function causeOf(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  if (err.name === 'TimeoutError') return 'timed out';
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? err.message;
}
