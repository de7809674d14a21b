/**
 * @module faults
 * A switch that makes matching requests fail: answer a Taskcluster-shaped error (default 500) or
 * drop the connection, for N requests (`count`), for a while (`forMs`, real time), or until
 * `clear()`. Matching is on the raw request-target (path and query).
 *
 * @example
 * tc.faults.fail({ count: 2, match: /claim-work/ }); // the next two claimWork calls answer 500
 * tc.faults.fail({ drop: true, forMs: 1000 });        // every request for a second: socket destroyed
 */
import type { RequestHandler } from 'express';
import { HttpError } from './errors.js';

export interface FaultSpec {
  /** HTTP status of the error answer; default 500. Ignored with `drop`. */
  status?: number;
  /** Destroy the socket instead of answering. */
  drop?: boolean;
  /** Active for this long from now (real time). */
  forMs?: number;
  /** Active for this many matching requests. */
  count?: number;
  /** Only requests whose path and query match. Default: every request. */
  match?: RegExp;
}

interface ActiveFault {
  spec: FaultSpec;
  until?: number;
  left?: number;
}

export class Faults {
  private active: ActiveFault[] = [];
  /** How many requests a fault has failed so far. */
  injected = 0;

  fail(spec: FaultSpec = {}): void {
    this.active.push({
      spec,
      ...(spec.forMs !== undefined ? { until: Date.now() + spec.forMs } : {}),
      ...(spec.count !== undefined ? { left: spec.count } : {}),
    });
  }

  clear(): void {
    this.active = [];
  }

  /** The fault that takes this request, if any (and uses up one of its `count`). */
  private take(url: string): FaultSpec | undefined {
    const now = Date.now();
    this.active = this.active.filter((f) => (f.until === undefined || f.until > now) && f.left !== 0);
    const fault = this.active.find((f) => !f.spec.match || f.spec.match.test(url));
    if (!fault) return undefined;
    if (fault.left !== undefined) fault.left -= 1;
    this.injected += 1;
    return fault.spec;
  }

  middleware(): RequestHandler {
    return (req, _res, next) => {
      const spec = this.take(req.originalUrl);
      if (!spec) return next();
      if (spec.drop) {
        req.socket.destroy();
        return;
      }
      const status = spec.status ?? 500;
      next(new HttpError(status, `Injected fault (fake-taskcluster faults.fail) answering ${status}`));
    };
  }
}
