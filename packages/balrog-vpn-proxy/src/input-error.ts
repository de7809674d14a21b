/**
 * @module input-error
 * A bad input the operator must fix: the CLI prints its message as one line and exits 1.
 */
export class InputError extends Error {
  override readonly name = 'InputError';
}

/** Checks `PROXIED_SERVER`: present, and an absolute http(s) URL. */
export function parseProxiedServer(value: string | undefined): URL {
  if (!value || value.trim() === '') {
    throw new InputError(
      'Environment variable PROXIED_SERVER must be set (the upstream URL, e.g. https://aus4-admin.mozilla.org).',
    );
  }
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    throw new InputError(
      `PROXIED_SERVER is not a URL: "${value}"; set it to the upstream URL, e.g. https://aus4-admin.mozilla.org.`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new InputError(
      `PROXIED_SERVER must be an http:// or https:// URL, not "${url.protocol}"; e.g. https://aus4-admin.mozilla.org.`,
    );
  }
  return url;
}
