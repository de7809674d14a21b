/**
 * @module ids
 * The identifier patterns the real services validate URL parameters and bodies with, and slugids.
 */
import { nice } from 'slugid';

/** A v4-UUID slugid (queue `SLUGID_PATTERN`). */
export const SLUGID = /^[A-Za-z0-9_-]{8}[Q-T][A-Za-z0-9_-][CGKOSWaeimquy26-][A-Za-z0-9_-]{10}[AQgw]$/;
/** provisionerId, workerGroup, workerId, schedulerId. */
export const GENERIC_ID = /^[a-zA-Z0-9_-]{1,38}$/;
export const RUN_ID = /^[1-9]*[0-9]+$/;
export const TASK_QUEUE_ID = /^[a-zA-Z0-9_-]{1,38}\/[a-z]([-a-z0-9]{0,36}[a-z0-9])?$/;
export const WORKER_TYPE = /^[a-z]([-a-z0-9]{0,36}[a-z0-9])?$/;
/** Artifact and object names: printable ASCII. */
export const PRINTABLE = /^[\x20-\x7e]+$/;
export const PROJECT_ID = /^([a-zA-Z0-9._/-]*)$/;
/** Index namespaces (index service `namespaceFormat`). */
export const NAMESPACE = /^([a-zA-Z0-9_!~*'()%-]+\.)*[a-zA-Z0-9_!~*'()%-]+$/;

/** A random "nice" slugid (the `slugid` package, as the real services). */
export const slugid = (): string => nice();
