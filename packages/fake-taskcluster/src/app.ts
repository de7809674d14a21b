/**
 * @module app
 * `createApp(deps)`: the express app of fake-taskcluster, one router per service under
 * `/api/<service>/v1`. It never listens (see `server.ts`).
 */
import express from 'express';
import type { Express, RequestHandler } from 'express';
import { pino } from 'pino';
import type { Logger } from 'pino';
import { createAuthenticator } from './auth/authenticate.js';
import type { AuthScheme } from './auth/authenticate.js';
import { createEndpoint } from './auth/require-scopes.js';
import type { ApiLocals } from './auth/require-scopes.js';
import type { ClientStore } from './clients.js';
import { TaskStore } from './tasks.js';
import { errorHandler, notFound } from './errors.js';
import { authRoutes } from './routes/auth.js';
import type { RouteContext } from './routes/context.js';
import { fakeRoutes } from './routes/fake.js';
import { queueRoutes } from './routes/queue.js';
import { workerRoutes } from './routes/worker.js';
import { artifactRoutes } from './routes/artifacts.js';
import { artifactDownloadRoutes } from './routes/artifact-download.js';
import { objectRoutes } from './routes/object.js';
import { storageRoutes } from './routes/storage.js';
import { indexRoutes } from './routes/index-service.js';
import { purgeCacheRoutes } from './routes/purge-cache.js';
import { workerManagerRoutes } from './routes/worker-manager.js';
import { createServices } from './services.js';
import type { Services } from './services.js';
import { STORAGE_PREFIX } from './storage/signed-url.js';
import { tmpdir } from 'node:os';

export interface RecordedRequest {
  method: string;
  /** The raw request-target (path and query). */
  path: string;
  clientId?: string;
  /** Effective scopes; empty when the request was not (successfully) authenticated. */
  scopes: string[];
  /** The scheme the request used (also when authentication failed). */
  scheme: AuthScheme;
  status: number;
}

export interface FakeTaskclusterDeps {
  store: ClientStore;
  /** Tasks served by `queue.task` (default: none). */
  tasks?: TaskStore;
  now: () => number;
  onRequest?: (request: RecordedRequest) => void;
  /** Where internal errors (500s) are logged; default pino at level warn on stderr. */
  logger?: Logger;
  /** Queue, object and index state; default: fresh, storing uploads under the OS temp dir. */
  services?: Services;
  /** How long claimWork waits for a pending task (default 20000 ms). */
  claimWorkWaitMs?: number;
  /** `public/` artifacts readable by anyone, as a deployment's anonymous role grants (default true). */
  publicArtifacts?: boolean;
}

function recorder(onRequest: (r: RecordedRequest) => void): RequestHandler {
  return (req, res, next) => {
    const path = req.originalUrl;
    const scheme: AuthScheme = req.headers.authorization
      ? 'hawk'
      : /[?&]bewit=/.test(path)
        ? 'bewit'
        : 'none';
    res.on('finish', () => {
      const auth = (res.locals as ApiLocals).auth;
      onRequest({
        method: req.method,
        path,
        ...(auth?.clientId ? { clientId: auth.clientId } : {}),
        scopes: auth?.scopes ?? [],
        scheme: auth?.scheme ?? scheme,
        status: res.statusCode,
      });
    });
    next();
  };
}

export function createApp(deps: FakeTaskclusterDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  if (deps.onRequest) app.use(recorder(deps.onRequest));
  const services =
    deps.services ?? createServices({ store: deps.store, now: deps.now, storageDir: tmpdir() });
  const ctx: RouteContext = {
    ...services,
    endpoint: createEndpoint(createAuthenticator(deps.store, deps.now)),
    store: deps.store,
    tasks: deps.tasks ?? new TaskStore(),
    now: deps.now,
    publicArtifacts: deps.publicArtifacts ?? true,
    claimWorkWaitMs: deps.claimWorkWaitMs ?? 20_000,
  };
  app.use(services.faults.middleware());
  app.use((_req, _res, next) => {
    services.queue.sweep();
    next();
  });
  app.use('/api/auth/v1', authRoutes(ctx));
  app.use(
    '/api/queue/v1',
    queueRoutes(ctx),
    workerRoutes(ctx),
    artifactRoutes(ctx),
    artifactDownloadRoutes(ctx),
  );
  app.use('/api/object/v1', objectRoutes(ctx));
  app.use('/api/index/v1', indexRoutes(ctx));
  app.use('/api/purge-cache/v1', purgeCacheRoutes(ctx));
  app.use('/api/worker-manager/v1', workerManagerRoutes(ctx));
  app.use(STORAGE_PREFIX.slice(0, -1), storageRoutes(ctx));
  app.use('/api/fake/v1', fakeRoutes(ctx));
  app.use(notFound);
  app.use(errorHandler(deps.logger ?? pino({ level: 'warn' }, pino.destination(2))));
  return app;
}
