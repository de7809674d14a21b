/**
 * @module testing/worker-protocol
 * worker-runner's protocol on a worker's stdin/stdout (`tools/workerproto`): a line `~{...}` whose
 * JSON object has a string `type` is a message (its other keys are the properties, flat), every
 * other line is a log line. The runner sends `welcome {capabilities}`, the worker answers
 * `hello {capabilities}`; only capabilities both sides listed may be used.
 */

export interface ProtocolMessage {
  type: string;
  [property: string]: unknown;
}

/** Everything worker-runner supports, so everything the stand-in offers by default. */
export const RUNNER_CAPABILITIES = [
  'error-report',
  'graceful-termination',
  'log',
  'new-credentials',
  'shutdown',
] as const;

export function encodeMessage(message: ProtocolMessage): string {
  return `~${JSON.stringify(message)}\n`;
}

/** The message a line carries, or undefined when it is a log line (as `PipeTransport.Recv`). */
export function parseLine(line: string): ProtocolMessage | undefined {
  if (line.length < 3 || !line.startsWith('~{') || !line.endsWith('}')) return undefined;
  try {
    const value: unknown = JSON.parse(line.slice(1));
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
    const message = value as Record<string, unknown>;
    return typeof message.type === 'string' ? (message as ProtocolMessage) : undefined;
  } catch {
    return undefined;
  }
}
