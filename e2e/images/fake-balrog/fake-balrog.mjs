// Fake balrog admin API on port 80: 401 without Authorization (as balrog answers unauthenticated
// requests), otherwise 200 with the request echoed. Every request is logged with its source address.
import { createServer } from 'node:http';

createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const remoteAddress = (req.socket.remoteAddress ?? '').replace(/^::ffff:/, '');
    console.log(JSON.stringify({ remoteAddress, method: req.method, url: req.url }));
    const authorized = Boolean(req.headers.authorization);
    const body = authorized
      ? {
          balrog: 'fake',
          method: req.method,
          url: req.url,
          headers: req.headers,
          remoteAddress,
          body: Buffer.concat(chunks).toString(),
        }
      : { balrog: 'fake', error: 'Unauthorized', remoteAddress };
    res.writeHead(authorized ? 200 : 401, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  });
}).listen(80, () => console.log('fake balrog listening on :80'));
