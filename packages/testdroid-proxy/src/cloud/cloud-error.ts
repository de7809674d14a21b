/**
 * @module cloud/cloud-error
 * The one error the Testdroid client throws: what was called, what came back, never a secret.
 */
export class CloudError extends Error {
  override readonly name = 'CloudError';
  constructor(
    /** HTTP status, or undefined when the cloud could not be reached. */
    readonly status: number | undefined,
    message: string,
    options?: ErrorOptions & { unsure?: boolean },
  ) {
    super(message, options);
    this.unsure = options?.unsure === true;
  }
  /**
   * True when a call that is not safe to repeat (a POST that creates or starts something) failed
   * with a 5xx or no answer: the cloud may have done it. It was not retried; look before repeating.
   */
  readonly unsure: boolean;
}

/** Short, single-line detail out of an error body (`message`, `error_description`, `error`). */
export function detailOf(body: string): string {
  let text = body;
  try {
    const json = JSON.parse(body) as Record<string, unknown>;
    const parts = [json.error, json.error_description, json.message].filter((v) => typeof v === 'string');
    if (parts.length > 0) text = parts.join(': ');
  } catch {
    // not JSON: keep the text
  }
  text = text.replace(/\s+/g, ' ').trim();
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

/** Replaces every occurrence of the given secrets in a message. */
export function scrub(message: string, secrets: readonly (string | undefined)[]): string {
  let out = message;
  for (const s of secrets) if (s && s.length >= 4) out = out.split(s).join('[redacted]');
  return out;
}
