/**
 * @module testing/signed-fetch
 * `fetch` with a Hawk header, for requests taskcluster-client would not make (raw paths, no retries).
 */
import hawk from 'hawk';

export async function signedFetch(
  url: string,
  credentials: { clientId: string; accessToken: string; certificate?: string },
  body?: unknown,
  method = body === undefined ? 'GET' : 'POST',
): Promise<Response> {
  const { header } = hawk.client.header(url, method, {
    credentials: { id: credentials.clientId, key: credentials.accessToken, algorithm: 'sha256' },
    ...(credentials.certificate
      ? {
          ext: Buffer.from(
            JSON.stringify({ certificate: JSON.parse(credentials.certificate) as unknown }),
          ).toString('base64'),
        }
      : {}),
  });
  return fetch(url, {
    method,
    redirect: 'manual',
    headers: { authorization: header, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}
