/**
 * @module testing/sim-routes
 * The REST endpoints of the simulated Testdroid cloud under `/api/v2` (PROTOCOLS.md §7.4), with
 * the cloud's shapes: lists as `{data: [...]}`, the proxy list as a bare array.
 */
import { Router, type Request, type Response } from 'express';
import { FLASH_PROJECT, LABEL_GROUPS, type SimDevice, type SimState } from './sim-state.js';

export interface SimRouteOptions {
  proxyHost: string;
  /** Proxy polls per (session, type) answered with `[]` before the proxy appears. */
  proxyDelayPolls: number;
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const list = <T>(data: T[]): { data: T[]; offset: number; limit: number; total: number } => ({
  data,
  offset: 0,
  limit: data.length,
  total: data.length,
});
const fail = (res: Response, status: number, message: string): void => {
  res.status(status).json({ message, statusCode: status });
};

export function deviceJson(d: SimDevice): Record<string, unknown> {
  return { id: d.id, displayName: d.displayName, online: d.online, locked: d.locked, softwareVersion: { releaseVersion: d.buildLabel } };
}

export function simRoutes(state: SimState, opts: SimRouteOptions): Router {
  const r = Router();
  const polls = new Map<string, number>();
  const device = (req: Request): SimDevice | undefined => state.devices.find((d) => d.id === Number(req.params.id));
  const run = (req: Request) => state.runs.find((x) => x.id === Number(req.params.rid));

  r.use((_req, _res, next) => {
    state.tick();
    next();
  });

  r.get('/label-groups', (req, res) => {
    const search = str(req.query.search).toLowerCase();
    res.json(list(LABEL_GROUPS.filter((g) => g.displayName.toLowerCase().includes(search))));
  });
  r.get('/label-groups/:gid/labels', (req, res) => {
    res.json(list(state.searchLabels(Number(req.params.gid), str(req.query.search))));
  });

  r.get('/devices', (req, res) => {
    const wanted = str(req.query['label_id[]']).split(',').filter(Boolean).map(Number);
    const match = state.devices.filter((d) => {
      const ids = state.deviceLabelIds(d);
      return wanted.every((w) => ids.includes(w));
    });
    res.json(list(match.map(deviceJson)));
  });
  r.get('/devices/:id/properties', (req, res) => {
    const d = device(req);
    if (!d) return fail(res, 404, `Device ${req.params.id} not found`);
    const groupName = (id: number): string => LABEL_GROUPS.find((g) => g.id === id)?.displayName ?? String(id);
    const props = [...state.labelsOf(d).map(([g, v]) => ({ propertyGroupName: groupName(g), displayName: v })), ...d.properties];
    res.json(list(props.map((p, i) => ({ id: i + 1, ...p }))));
  });

  r.post('/me/device-sessions', (req, res) => {
    const d = state.devices.find((x) => x.id === Number(req.body?.deviceModelId));
    if (!d) return fail(res, 404, `Device ${str(req.body?.deviceModelId)} not found`);
    if (!d.online || d.locked) return fail(res, 400, `Device ${d.id} is not available (online=${d.online}, locked=${d.locked})`);
    const timeoutSec = Number(req.body?.timeout);
    d.locked = true;
    const session = { id: state.id(), deviceId: d.id, timeoutSec, state: 'active' as const, createdAt: state.now() };
    state.sessions.push(session);
    res.status(201).json({ id: session.id, device: deviceJson(d), state: 'IN_USE', timeout: timeoutSec, createTime: session.createdAt });
  });
  r.post('/me/device-sessions/:sid/release', (req, res) => {
    const s = state.sessions.find((x) => x.id === Number(req.params.sid));
    if (!s) return fail(res, 404, `Device session ${req.params.sid} not found`);
    if (s.state === 'released') return fail(res, 400, `Device session ${s.id} is already released`);
    s.state = 'released';
    s.releasedAt = state.now();
    const d = state.devices.find((x) => x.id === s.deviceId);
    if (d) d.locked = false;
    res.status(204).end();
  });

  r.get('/proxy-plugin/proxies', (req, res) => {
    let where: { type?: string; sessionId?: number };
    try {
      where = JSON.parse(str(req.query.where)) as typeof where;
    } catch {
      return fail(res, 400, 'where must be JSON');
    }
    const s = state.sessions.find((x) => x.id === where.sessionId && x.state === 'active');
    if (!s || (where.type !== 'adb' && where.type !== 'marionette')) return void res.json([]);
    const key = `${s.id}:${where.type}`;
    const n = (polls.get(key) ?? 0) + 1;
    polls.set(key, n);
    if (n <= opts.proxyDelayPolls) return void res.json([]);
    const port = where.type === 'adb' ? 15000 + (s.id % 1000) : 25000 + (s.id % 1000);
    res.json([{ id: s.id * 10 + (where.type === 'adb' ? 1 : 2), type: where.type, sessionId: s.id, host: opts.proxyHost, port }]);
  });

  r.get('/me/projects', (req, res) => {
    const search = str(req.query.search).toLowerCase();
    res.json(list([FLASH_PROJECT].filter((p) => p.name.toLowerCase().includes(search))));
  });
  r.post('/runs', (req, res) => {
    if (Number(req.body?.projectId) !== FLASH_PROJECT.id) return fail(res, 404, 'Project not found');
    const created = {
      id: state.id(),
      projectId: FLASH_PROJECT.id,
      state: 'CREATED' as const,
      createTime: state.now(),
      deviceIds: [],
      parameters: [{ id: state.id(), key: 'FLAME_ZIP_URL', value: 'left over from an earlier run' }],
    };
    state.runs.push(created);
    res.status(201).json({ id: created.id, state: created.state, createTime: created.createTime });
  });
  r.get('/me/projects/:pid/runs/:rid/config', (req, res) => {
    const x = run(req);
    if (!x) return fail(res, 404, 'Run not found');
    res.json({ id: x.id, runId: x.id, projectId: x.projectId });
  });
  r.get('/runs/:rid/config/parameters', (req, res) => {
    const x = run(req);
    if (!x) return fail(res, 404, 'Run not found');
    res.json(list(x.parameters));
  });
  r.delete('/me/projects/:pid/runs/:rid/config/parameters/:paramId', (req, res) => {
    const x = run(req);
    const i = x?.parameters.findIndex((p) => p.id === Number(req.params.paramId)) ?? -1;
    if (!x || i < 0) return fail(res, 404, 'Parameter not found');
    x.parameters.splice(i, 1);
    res.status(204).end();
  });
  r.post('/me/projects/:pid/runs/:rid/config/parameters', (req, res) => {
    const x = run(req);
    if (!x) return fail(res, 404, 'Run not found');
    const p = { id: state.id(), key: str(req.body?.key), value: str(req.body?.value) };
    x.parameters.push(p);
    res.status(201).json(p);
  });
  r.post('/runs/:rid/start', (req, res) => {
    const x = run(req);
    if (!x) return fail(res, 404, 'Run not found');
    const raw: unknown = req.body?.['usedDeviceIds[]'];
    const ids = (Array.isArray(raw) ? raw : [raw]).map(Number).filter((n) => state.devices.some((d) => d.id === n));
    if (ids.length === 0) return fail(res, 400, 'usedDeviceIds[] names no known device');
    state.startRun(x, ids);
    res.json({ id: x.id, state: x.state });
  });
  r.get('/me/projects/:pid/runs/:rid', (req, res) => {
    const x = run(req);
    if (!x) return fail(res, 404, 'Run not found');
    res.json({ id: x.id, state: x.state, createTime: x.createTime });
  });
  r.post('/runs/:rid/abort', (req, res) => {
    const x = run(req);
    if (!x) return fail(res, 404, 'Run not found');
    if (x.state !== 'FINISHED') state.finish(x, 'ABORTED');
    res.json({ id: x.id, state: x.state });
  });
  r.get('/runs/:rid/device-runs', (req, res) => {
    const x = run(req);
    if (!x) return fail(res, 404, 'Run not found');
    res.json(list(x.deviceIds.map((deviceId, i) => ({ id: x.id * 100 + i, deviceId, runStatus: x.deviceRunStatus }))));
  });
  return r;
}
