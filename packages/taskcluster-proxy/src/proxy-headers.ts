/**
 * @module proxy-headers
 * The headers added to every response (PROTOCOLS.md §4.4). Never the access token.
 */
import type { ServerResponse } from 'node:http';
import { certificateScopes } from './credentials.js';
import type { Credentials } from './credentials.js';

export interface ProxyIdentity {
  version: string;
  revision: string;
}

export function proxyHeaders(
  id: ProxyIdentity,
  creds: Credentials,
  authorizedScopes: readonly string[] | undefined,
): Record<string, string> {
  const headers: Record<string, string> = {
    'x-taskcluster-proxy-version': id.version,
    'x-taskcluster-proxy-revision': id.revision,
  };
  if (creds.certificate) {
    headers['x-taskcluster-proxy-temp-clientid'] = creds.clientId;
    headers['x-taskcluster-proxy-temp-scopes'] = JSON.stringify(certificateScopes(creds) ?? []);
  } else {
    headers['x-taskcluster-proxy-perm-clientid'] = creds.clientId;
  }
  if (authorizedScopes) headers['x-taskcluster-authorized-scopes'] = JSON.stringify(authorizedScopes);
  return headers;
}

export function setHeaders(res: ServerResponse, headers: Record<string, string>): void {
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
}
