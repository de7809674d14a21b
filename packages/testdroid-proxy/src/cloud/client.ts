/**
 * @module cloud/client
 * A typed client for the Testdroid cloud REST calls the proxy makes (PROTOCOLS.md §7.4).
 *
 * @example
 * const cloud = new TestdroidClient({ cloudUrl: 'https://cloud.testdroid.com/', username, password });
 * const session = await cloud.startDeviceSession(device.id, 3600);
 * await cloud.releaseDeviceSession(session.id);
 */
import { CloudHttp, type CloudHttpOptions } from './http.js';
import type {
  Device,
  DeviceProperty,
  DeviceProxy,
  DeviceRun,
  DeviceSession,
  Label,
  LabelGroup,
  ListResponse,
  Project,
  ProxyType,
  RunParameter,
  TestRun,
} from './types.js';

export type TestdroidClientOptions = CloudHttpOptions;

/** What the device flow needs from the cloud (the client implements it; tests may stub it). */
export type CloudClient = Pick<TestdroidClient, keyof TestdroidClient>;

const byName = <T extends { displayName?: string; name?: string }>(items: T[], name: string): T | undefined =>
  items.find((i) => (i.displayName ?? i.name ?? '').toLowerCase() === name.toLowerCase());

export class TestdroidClient {
  private readonly http: CloudHttp;

  constructor(options: TestdroidClientOptions) {
    this.http = new CloudHttp(options);
  }

  /** The label group with exactly this name (case-insensitive), if any. */
  async getLabelGroup(name: string): Promise<LabelGroup | undefined> {
    const res = await this.http.api<ListResponse<LabelGroup>>('GET', 'label-groups', {
      query: { search: name },
    });
    return byName(res.data, name);
  }

  /** The label of a group with exactly this value (case-insensitive), if any. */
  async getLabel(groupId: number, value: string): Promise<Label | undefined> {
    const res = await this.http.api<ListResponse<Label>>('GET', `label-groups/${groupId}/labels`, {
      query: { search: value },
    });
    return byName(res.data, value);
  }

  /** All devices, or those carrying every one of the labels. */
  async getDevices(labelIds: readonly number[] = []): Promise<Device[]> {
    const query = { limit: 0, 'label_id[]': labelIds.length > 0 ? labelIds.join(',') : undefined };
    return (await this.http.api<ListResponse<Device>>('GET', 'devices', { query })).data;
  }

  async getDeviceProperties(deviceId: number): Promise<DeviceProperty[]> {
    return (
      await this.http.api<ListResponse<DeviceProperty>>('GET', `devices/${deviceId}/properties`, {
        query: { limit: 0 },
      })
    ).data;
  }

  /** Starts a session on a device for `timeoutSec` seconds. */
  async startDeviceSession(deviceId: number, timeoutSec: number): Promise<DeviceSession> {
    return this.http.api<DeviceSession>('POST', 'me/device-sessions', {
      form: { deviceModelId: deviceId, timeout: timeoutSec },
    });
  }

  async releaseDeviceSession(sessionId: number): Promise<void> {
    // safe to repeat: a released session stays released
    await this.http.api<unknown>('POST', `me/device-sessions/${sessionId}/release`, {
      form: {},
      idempotent: true,
    });
  }

  /** The proxies of one type for a session (a bare array; empty until the cloud has set them up). */
  async getProxies(type: ProxyType, sessionId: number): Promise<DeviceProxy[]> {
    const where = JSON.stringify({ type, sessionId });
    const res = await this.http.api<DeviceProxy[]>('GET', 'proxy-plugin/proxies', { query: { where } });
    return Array.isArray(res) ? res : [];
  }

  /** The project with exactly this name (case-insensitive), if any. */
  async getProject(name: string): Promise<Project | undefined> {
    const res = await this.http.api<ListResponse<Project>>('GET', 'me/projects', { query: { search: name } });
    return byName(res.data, name);
  }

  async createRun(projectId: number): Promise<TestRun> {
    return this.http.api<TestRun>('POST', 'runs', { form: { projectId } });
  }

  async getRunConfig(projectId: number, runId: number): Promise<unknown> {
    return this.http.api<unknown>('GET', `me/projects/${projectId}/runs/${runId}/config`);
  }

  async getRunParameters(runId: number): Promise<RunParameter[]> {
    return (await this.http.api<ListResponse<RunParameter>>('GET', `runs/${runId}/config/parameters`)).data;
  }

  async deleteRunParameter(projectId: number, runId: number, parameterId: number): Promise<void> {
    await this.http.api<unknown>(
      'DELETE',
      `me/projects/${projectId}/runs/${runId}/config/parameters/${parameterId}`,
    );
  }

  async addRunParameter(projectId: number, runId: number, key: string, value: string): Promise<void> {
    await this.http.api<unknown>('POST', `me/projects/${projectId}/runs/${runId}/config/parameters`, {
      form: { key, value },
    });
  }

  async startRun(runId: number, deviceIds: readonly number[]): Promise<void> {
    await this.http.api<unknown>('POST', `runs/${runId}/start`, {
      form: deviceIds.map((id): [string, string] => ['usedDeviceIds[]', String(id)]),
    });
  }

  async getRun(projectId: number, runId: number): Promise<TestRun> {
    return this.http.api<TestRun>('GET', `me/projects/${projectId}/runs/${runId}`);
  }

  async abortRun(runId: number): Promise<void> {
    // safe to repeat: an aborted run stays aborted
    await this.http.api<unknown>('POST', `runs/${runId}/abort`, { form: {}, idempotent: true });
  }

  async getDeviceRuns(runId: number): Promise<DeviceRun[]> {
    return (await this.http.api<ListResponse<DeviceRun>>('GET', `runs/${runId}/device-runs`)).data;
  }
}
