/**
 * @module worker/worker-runner-protocol
 * Taskcluster's worker-runner protocol (tools/workerproto) on a pair of streams: lines
 * `~{"type": ..., ...}` are messages, any other line is ignored (logged). worker-runner sends
 * `welcome {capabilities}`; we answer `hello` with the capabilities we share, and from then on send
 * only messages of that set. Messages in, by type, go to handlers; unknown ones are logged and ignored.
 */
import { createInterface, type Interface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import type { Logger } from 'pino';

/** What this worker implements. */
export const CAPABILITIES = [
  'graceful-termination',
  'new-credentials',
  'error-report',
  'log',
  'shutdown',
] as const;
export type Capability = (typeof CAPABILITIES)[number];

export type Message = { type: string } & Record<string, unknown>;

export class WorkerRunnerProtocol {
  private agreed = new Set<string>();
  private readonly handlers = new Map<string, (message: Message) => void>();
  private welcomed: () => void = () => undefined;
  /** Resolves once `welcome` came and `hello` went. */
  readonly ready: Promise<void>;

  constructor(
    input: Readable,
    private readonly output: Writable,
    private readonly log: Logger,
  ) {
    this.ready = new Promise((resolve) => (this.welcomed = resolve));
    this.lines = createInterface({ input });
    this.lines.on('line', (line) => this.receive(line));
    this.input = input;
  }

  private readonly lines: Interface;
  private readonly input: Readable;

  /** Stops reading (so an open stdin does not keep the process alive once the worker is done). */
  close(): void {
    this.lines.close();
    this.input.destroy();
  }

  /** Handles messages of `type` (welcome is handled here). */
  on(type: string, handler: (message: Message) => void): this {
    this.handlers.set(type, handler);
    return this;
  }

  /** Whether worker-runner agreed to `capability`. */
  has(capability: Capability): boolean {
    return this.agreed.has(capability);
  }

  /** Sends a message, if its capability was agreed; returns whether it went. */
  send(type: Capability, props: Record<string, unknown> = {}): boolean {
    if (!this.agreed.has(type)) return false;
    this.write({ type, ...props });
    return true;
  }

  private write(message: Message): void {
    this.output.write(`~${JSON.stringify(message)}\n`);
  }

  private receive(line: string): void {
    if (!line.startsWith('~')) return void this.log.debug({ line }, 'worker-runner: not a protocol line');
    let message: Message;
    try {
      message = JSON.parse(line.slice(1)) as Message;
      if (typeof message?.type !== 'string') throw new Error('no type');
    } catch (err) {
      this.log.warn(
        { line: line.slice(0, 200), err: String(err) },
        'worker-runner: unreadable message ignored',
      );
      return;
    }
    if (message.type === 'welcome') {
      const offered = Array.isArray(message.capabilities) ? message.capabilities.map(String) : [];
      const shared = CAPABILITIES.filter((c) => offered.includes(c));
      this.agreed = new Set(shared);
      this.write({ type: 'hello', capabilities: shared });
      this.log.info({ capabilities: shared }, 'worker-runner protocol agreed');
      this.welcomed();
      return;
    }
    const handler = this.handlers.get(message.type);
    if (!handler) return void this.log.warn({ type: message.type }, 'worker-runner: unknown message ignored');
    handler(message);
  }
}
