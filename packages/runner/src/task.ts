/**
 * @module task
 * The task definition the runner works on, and the docker-worker v1 payload (as the schema in
 * `schemas/payload.json` describes it).
 */
export type ImageRef =
  | string
  | { type: 'docker-image'; name: string }
  | { type: 'indexed-image'; namespace: string; path: string }
  | { type: 'task-image'; taskId: string; path: string };

export interface ArtifactSpec {
  /** The schema also has d2g's `volume`, which the payload check refuses: features never see it. */
  type: 'file' | 'directory';
  path: string;
  expires?: string;
}

export interface PhoneCapability {
  type: string;
  sims?: string;
  build?: string;
  memory?: string;
}

/** Host devices a task may ask for (`payload.capabilities.devices`, besides the seed's phone). */
export interface HostDevices {
  loopbackVideo?: boolean;
  loopbackAudio?: boolean;
  hostSharedMemory?: boolean;
  kvm?: boolean;
}

export interface Payload {
  image: ImageRef;
  command?: string[];
  env?: Record<string, string>;
  maxRunTime: number;
  encryptedEnv?: string[];
  features?: Record<string, boolean>;
  artifacts?: Record<string, ArtifactSpec>;
  cache?: Record<string, string>;
  capabilities?: {
    privileged?: boolean;
    disableSeccomp?: boolean;
    devices?: HostDevices & { phone?: PhoneCapability };
  };
  onExitStatus?: { retry?: number[]; purgeCaches?: number[] };
  log?: string;
  supersederUrl?: string;
}

export interface TaskDefinition {
  taskId: string;
  runId: number;
  scopes: string[];
  /** Unvalidated until the payload feature has run; features after it may rely on the schema. */
  payload: Payload;
  created: Date;
  deadline: Date;
  expires: Date;
  /** The task definition as the queue serves it (queue mode; the chain of trust records it). */
  definition?: Record<string, unknown>;
}
