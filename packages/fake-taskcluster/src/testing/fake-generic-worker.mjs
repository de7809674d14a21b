// A tiny generic-worker stand-in for worker-runner tests (not exported): `run --config <file>
// --with-worker-runner`; answers welcome with hello, logs, echoes new-credentials, sends shutdown
// (FAKE_WORKER_SHUTDOWN=1) and exits on graceful-termination. FAKE_WORKER_CAPABILITIES (comma
// separated) overrides what it says hello with.
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

const args = process.argv.slice(2);
if (args[0] !== 'run' || args[1] !== '--config' || args[3] !== '--with-worker-runner') {
  process.stderr.write(`usage: run --config <file> --with-worker-runner (got ${args.join(' ')})\n`);
  process.exit(64);
}
const config = JSON.parse(readFileSync(args[2], 'utf8'));
const capabilities = (
  process.env.FAKE_WORKER_CAPABILITIES ?? 'graceful-termination,new-credentials,log,shutdown'
)
  .split(',')
  .filter(Boolean);
const send = (message) => process.stdout.write(`~${JSON.stringify(message)}\n`);
let agreed = new Set();

console.log(`fake worker ${config.workerGroup}/${config.workerId} starting as ${config.clientId}`);
createInterface({ input: process.stdin }).on('line', (line) => {
  if (!line.startsWith('~')) return;
  const message = JSON.parse(line.slice(1));
  switch (message.type) {
    case 'welcome':
      agreed = new Set(capabilities.filter((c) => message.capabilities.includes(c)));
      send({ type: 'hello', capabilities });
      if (agreed.has('log')) send({ type: 'log', body: { textPayload: 'hello from the worker', config } });
      if (process.env.FAKE_WORKER_SHUTDOWN === '1' && agreed.has('shutdown')) send({ type: 'shutdown' });
      break;
    case 'new-credentials':
      console.log(`new credentials for ${message['client-id']}`);
      if (agreed.has('log')) send({ type: 'log', body: { echo: message } });
      break;
    case 'graceful-termination':
      console.log(`graceful termination, finish-tasks=${message['finish-tasks']}`);
      process.exit(0);
      break;
    default:
      console.log(`unexpected message ${message.type}`);
  }
});
