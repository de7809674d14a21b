/**
 * @module testing/sim-routes
 * The REST endpoints of the simulated Testdroid cloud under `api/v2/` (PROTOCOLS.md §7.4), with
 * the cloud's shapes: lists as `{data: [...]}`, the proxy list as a bare array.
 * (No express here: the simulator is imported by test runners whose module conditions break
 * express's CommonJS dependencies.)
 */
import { fail, list, ok, SimRouter, type SimRequest } from './sim-router.js';
import { FLASH_PROJECT, LABEL_GROUPS, type SimDevice, type SimRun, type SimState } from './sim-state.js';

export interface SimRouteOptions {
  proxyHost: string;
  /** Proxy polls per (session, type) answered with `[]` before the proxy appears. */
  proxyDelayPolls: number;
}

export function deviceJson(d: SimDevice): Record<string, unknown> {
  return {
    id: d.id,
    displayName: d.displayName,
    online: d.online,
    locked: d.locked,
    softwareVersion: { releaseVersion: d.buildLabel },
  };
}

const groupName = (id: number): string => LABEL_GROUPS.find((g) => g.id === id)?.displayName ?? String(id);

export function simRoutes(state: SimState, opts: SimRouteOptions): SimRouter {
  const r = new SimRouter();
  const polls = new Map<string, number>();
  const device = (req: SimRequest): SimDevice | undefined =>
    state.devices.find((d) => d.id === Number(req.params.id));
  const run = (req: SimRequest): SimRun | undefined =>
    state.runs.find((x) => x.id === Number(req.params.rid));
  const noRun = fail(404, 'Run not found');

  r.on('GET', 'label-groups', (req) => {
    const search = (req.query.get('search') ?? '').toLowerCase();
    return ok(list(LABEL_GROUPS.filter((g) => g.displayName.toLowerCase().includes(search))));
  });
  r.on('GET', 'label-groups/:gid/labels', (req) =>
    ok(list(state.searchLabels(Number(req.params.gid), req.query.get('search') ?? ''))),
  );

  r.on('GET', 'devices', (req) => {
    const wanted = (req.query.get('label_id[]') ?? '').split(',').filter(Boolean).map(Number);
    const match = state.devices.filter((d) => {
      const ids = state.deviceLabelIds(d);
      return wanted.every((w) => ids.includes(w));
    });
    return ok(list(match.map(deviceJson)));
  });
  r.on('GET', 'devices/:id/properties', (req) => {
    const d = device(req);
    if (!d) return fail(404, `Device ${req.params.id} not found`);
    const props = [
      ...state.labelsOf(d).map(([g, v]) => ({ propertyGroupName: groupName(g), displayName: v })),
      ...d.properties,
    ];
    return ok(list(props.map((p, i) => ({ id: i + 1, ...p }))));
  });

  r.on('POST', 'me/device-sessions', (req) => {
    const d = state.devices.find((x) => x.id === Number(req.body.get('deviceModelId')));
    if (!d) return fail(404, `Device ${req.body.get('deviceModelId') ?? ''} not found`);
    if (!d.online || d.locked)
      return fail(400, `Device ${d.id} is not available (online=${d.online}, locked=${d.locked})`);
    const timeoutSec = Number(req.body.get('timeout'));
    d.locked = true;
    const session = {
      id: state.id(),
      deviceId: d.id,
      timeoutSec,
      state: 'active' as const,
      createdAt: state.now(),
    };
    state.sessions.push(session);
    return ok(
      {
        id: session.id,
        device: deviceJson(d),
        state: 'IN_USE',
        timeout: timeoutSec,
        createTime: session.createdAt,
      },
      201,
    );
  });
  r.on('POST', 'me/device-sessions/:sid/release', (req) => {
    const s = state.sessions.find((x) => x.id === Number(req.params.sid));
    if (!s) return fail(404, `Device session ${req.params.sid} not found`);
    if (s.state === 'released') return fail(400, `Device session ${s.id} is already released`);
    s.state = 'released';
    s.releasedAt = state.now();
    const d = state.devices.find((x) => x.id === s.deviceId);
    if (d) d.locked = false;
    return { status: 204 };
  });

  r.on('GET', 'proxy-plugin/proxies', (req) => {
    let where: { type?: string; sessionId?: number };
    try {
      where = JSON.parse(req.query.get('where') ?? '') as typeof where;
    } catch {
      return fail(400, 'where must be JSON');
    }
    const s = state.sessions.find((x) => x.id === where.sessionId && x.state === 'active');
    if (!s || (where.type !== 'adb' && where.type !== 'marionette')) return ok([]);
    const key = `${s.id}:${where.type}`;
    const n = (polls.get(key) ?? 0) + 1;
    polls.set(key, n);
    if (n <= opts.proxyDelayPolls) return ok([]);
    const port = (where.type === 'adb' ? 15000 : 25000) + (s.id % 1000);
    return ok([
      {
        id: s.id * 10 + (where.type === 'adb' ? 1 : 2),
        type: where.type,
        sessionId: s.id,
        host: opts.proxyHost,
        port,
      },
    ]);
  });

  r.on('GET', 'me/projects', (req) => {
    const search = (req.query.get('search') ?? '').toLowerCase();
    return ok(list([FLASH_PROJECT].filter((p) => p.name.toLowerCase().includes(search))));
  });
  r.on('POST', 'runs', (req) => {
    if (Number(req.body.get('projectId')) !== FLASH_PROJECT.id) return fail(404, 'Project not found');
    const created: SimRun = {
      id: state.id(),
      projectId: FLASH_PROJECT.id,
      state: 'CREATED',
      createTime: state.now(),
      deviceIds: [],
      parameters: [{ id: state.id(), key: 'FLAME_ZIP_URL', value: 'left over from an earlier run' }],
    };
    state.runs.push(created);
    return ok({ id: created.id, state: created.state, createTime: created.createTime }, 201);
  });
  r.on('GET', 'me/projects/:pid/runs/:rid/config', (req) => {
    const x = run(req);
    return x ? ok({ id: x.id, runId: x.id, projectId: x.projectId }) : noRun;
  });
  r.on('GET', 'runs/:rid/config/parameters', (req) => {
    const x = run(req);
    return x ? ok(list(x.parameters)) : noRun;
  });
  r.on('DELETE', 'me/projects/:pid/runs/:rid/config/parameters/:paramId', (req) => {
    const x = run(req);
    const i = x?.parameters.findIndex((p) => p.id === Number(req.params.paramId)) ?? -1;
    if (!x || i < 0) return fail(404, 'Parameter not found');
    x.parameters.splice(i, 1);
    return { status: 204 };
  });
  r.on('POST', 'me/projects/:pid/runs/:rid/config/parameters', (req) => {
    const x = run(req);
    if (!x) return noRun;
    const p = { id: state.id(), key: req.body.get('key') ?? '', value: req.body.get('value') ?? '' };
    x.parameters.push(p);
    return ok(p, 201);
  });
  r.on('POST', 'runs/:rid/start', (req) => {
    const x = run(req);
    if (!x) return noRun;
    if (x.startedAt !== undefined) return fail(400, `Run ${x.id} is already started`);
    const ids = req.body
      .getAll('usedDeviceIds[]')
      .map(Number)
      .filter((n) => state.devices.some((d) => d.id === n));
    if (ids.length === 0) return fail(400, 'usedDeviceIds[] names no known device');
    state.startRun(x, ids);
    return ok({ id: x.id, state: x.state });
  });
  r.on('GET', 'me/projects/:pid/runs/:rid', (req) => {
    const x = run(req);
    return x ? ok({ id: x.id, state: x.state, createTime: x.createTime }) : noRun;
  });
  r.on('POST', 'runs/:rid/abort', (req) => {
    const x = run(req);
    if (!x) return noRun;
    if (x.state !== 'FINISHED') state.finish(x, 'ABORTED');
    return ok({ id: x.id, state: x.state });
  });
  r.on('GET', 'runs/:rid/device-runs', (req) => {
    const x = run(req);
    if (!x) return noRun;
    return ok(
      list(
        x.deviceIds.map((deviceId, i) => ({ id: x.id * 100 + i, deviceId, runStatus: x.deviceRunStatus })),
      ),
    );
  });
  return r;
}
