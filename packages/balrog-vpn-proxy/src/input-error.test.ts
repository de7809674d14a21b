import { describe, expect, it } from 'vitest';
import { InputError, parseProxiedServer } from './input-error.js';

describe('parseProxiedServer', () => {
  it('accepts http and https URLs', () => {
    expect(parseProxiedServer('https://aus4-admin.mozilla.org').href).toBe('https://aus4-admin.mozilla.org/');
    expect(parseProxiedServer(' http://10.0.0.1:8080/base ').href).toBe('http://10.0.0.1:8080/base');
  });

  it.each([
    [
      undefined,
      'Environment variable PROXIED_SERVER must be set (the upstream URL, e.g. https://aus4-admin.mozilla.org).',
    ],
    [
      '',
      'Environment variable PROXIED_SERVER must be set (the upstream URL, e.g. https://aus4-admin.mozilla.org).',
    ],
    [
      'aus4-admin.mozilla.org',
      'PROXIED_SERVER is not a URL: "aus4-admin.mozilla.org"; set it to the upstream URL, e.g. https://aus4-admin.mozilla.org.',
    ],
    [
      'ftp://x',
      'PROXIED_SERVER must be an http:// or https:// URL, not "ftp:"; e.g. https://aus4-admin.mozilla.org.',
    ],
  ])('refuses %j with one line', (value, message) => {
    expect(() => parseProxiedServer(value)).toThrow(new InputError(message));
  });
});
