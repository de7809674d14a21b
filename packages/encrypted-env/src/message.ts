/**
 * @module message
 * The rules for one decrypted message, after decryption (pure functions; no crypto here).
 * Each check returns the failed rule and a detail for the worker's own debug log. Details may name the
 * variable and the times, never the value.
 */
import type { EncryptedEnvRule } from './errors.js';
import { isValidEnvName } from './env-name.js';

export interface EnvMessage {
  messageVersion: number | string;
  taskId: string;
  startTime: number;
  endTime: number;
  name: string;
  value: string;
}

export interface Violation {
  rule: EncryptedEnvRule;
  /** For the worker's debug log only: may contain the name and times, never the value. */
  detail: string;
}

export type Parsed = { ok: true; message: EnvMessage } | { ok: false; violation: Violation };

/** UTF-8 JSON → a message of the right shape. JSON.parse's own error is dropped: it quotes the text. */
export function parseMessage(plaintext: Uint8Array): Parsed {
  let data: unknown;
  try {
    data = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(plaintext));
  } catch {
    return { ok: false, violation: { rule: 'json', detail: 'plaintext is not UTF-8 JSON' } };
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    return { ok: false, violation: { rule: 'json', detail: 'plaintext JSON is not an object' } };
  }
  const m = data as Record<string, unknown>;
  const wrong: string[] = [];
  if (typeof m.messageVersion !== 'number' && typeof m.messageVersion !== 'string')
    wrong.push('messageVersion');
  if (typeof m.taskId !== 'string') wrong.push('taskId');
  if (typeof m.startTime !== 'number' || !Number.isFinite(m.startTime)) wrong.push('startTime');
  if (typeof m.endTime !== 'number' || !Number.isFinite(m.endTime)) wrong.push('endTime');
  if (!isValidEnvName(m.name)) wrong.push('name');
  if (typeof m.value !== 'string') wrong.push('value');
  if (wrong.length > 0) {
    return { ok: false, violation: { rule: 'shape', detail: `missing or wrong type: ${wrong.join(', ')}` } };
  }
  return { ok: true, message: m as unknown as EnvMessage };
}

export interface Context {
  taskId: string;
  now: number;
  reserved: { has(name: string): boolean };
  /** Names already in the environment: payload.env plus earlier messages. */
  taken: { has(name: string): boolean };
}

/** messageVersion, taskId, startTime, endTime, reserved name, duplicate name: the first failure wins. */
export function checkMessage(m: EnvMessage, ctx: Context): Violation | undefined {
  // Upstream compared with `!= 1`; the number 1 and the string "1" are what people actually sent.
  if (m.messageVersion !== 1 && m.messageVersion !== '1') {
    return {
      rule: 'version',
      detail: `messageVersion ${JSON.stringify(m.messageVersion)} is not 1 (variable ${m.name})`,
    };
  }
  if (m.taskId !== ctx.taskId) {
    return {
      rule: 'task-id',
      detail: `message for task ${JSON.stringify(m.taskId)}, not ${ctx.taskId} (variable ${m.name})`,
    };
  }
  if (m.startTime > ctx.now) {
    return {
      rule: 'start-time',
      detail: `startTime ${iso(m.startTime)} is after now ${iso(ctx.now)} (variable ${m.name})`,
    };
  }
  if (ctx.now > m.endTime) {
    return {
      rule: 'end-time',
      detail: `endTime ${iso(m.endTime)} is before now ${iso(ctx.now)} (variable ${m.name})`,
    };
  }
  if (ctx.reserved.has(m.name)) {
    return { rule: 'reserved-name', detail: `variable ${m.name} is set by the worker` };
  }
  if (ctx.taken.has(m.name)) {
    return {
      rule: 'duplicate-name',
      detail: `variable ${m.name} is already in payload.env or an earlier encryptedEnv message`,
    };
  }
  return undefined;
}

function iso(ms: number): string {
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? String(ms) : `${d.toISOString()} (${ms})`;
}
