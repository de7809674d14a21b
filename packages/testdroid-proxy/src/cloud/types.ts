/**
 * @module cloud/types
 * The Testdroid cloud resources this package reads (PROTOCOLS.md §7.4). Only the fields we use
 * are typed; the cloud sends more, and the proxy passes devices and sessions on verbatim.
 */
export interface TokenResponse {
  access_token: string;
  refresh_token: string;
  expires_in: number;
  token_type?: string;
}

export interface ListResponse<T> {
  data: T[];
}

export interface LabelGroup {
  id: number;
  displayName: string;
}

export interface Label {
  id: number;
  displayName: string;
}

export interface Device {
  id: number;
  displayName: string;
  online: boolean;
  locked: boolean;
  [field: string]: unknown;
}

export interface DeviceProperty {
  propertyGroupName: string;
  displayName: string;
  [field: string]: unknown;
}

export interface DeviceSession {
  id: number;
  device: Device;
  [field: string]: unknown;
}

/** A proxy-plugin entry (fields unconfirmed upstream: presumably host/port). Passed on verbatim. */
export type DeviceProxy = Record<string, unknown>;

export type ProxyType = 'adb' | 'marionette';

export interface Project {
  id: number;
  name: string;
}

export type RunState = 'WAITING' | 'RUNNING' | 'FINISHED' | (string & {});

export interface TestRun {
  id: number;
  state: RunState;
  createTime?: number;
  [field: string]: unknown;
}

export interface RunParameter {
  id: number;
  key: string;
  value?: string;
}

export interface DeviceRun {
  id?: number;
  runStatus: string;
  [field: string]: unknown;
}
