import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { configFromWorkerRunner } from './with-worker-runner.js';
import { WorkerRunnerProtocol, type Message } from './worker-runner-protocol.js';

function pair() {
  const input = new PassThrough();
  const output = new PassThrough();
  const sent: Message[] = [];
  output.on('data', (c: Buffer) => {
    for (const line of c.toString().split('\n').filter(Boolean)) {
      expect(line.startsWith('~')).toBe(true); // stdout carries protocol lines only
      sent.push(JSON.parse(line.slice(1)) as Message);
    }
  });
  const protocol = new WorkerRunnerProtocol(input, output, pino({ level: 'silent' }));
  const receive = (m: Message): void => void input.write(`~${JSON.stringify(m)}\n`);
  return { protocol, sent, receive, input };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('WorkerRunnerProtocol', () => {
  it('answers welcome with hello and the shared capabilities, and sends only those', async () => {
    const { protocol, sent, receive } = pair();
    receive({ type: 'welcome', capabilities: ['graceful-termination', 'shutdown', 'something-new'] });
    await protocol.ready;
    await tick();
    expect(sent).toEqual([{ type: 'hello', capabilities: ['graceful-termination', 'shutdown'] }]);
    expect(protocol.send('shutdown')).toBe(true);
    expect(protocol.send('new-credentials')).toBe(false); // not agreed
    await tick();
    expect(sent.at(-1)).toEqual({ type: 'shutdown' });
    expect(sent).toHaveLength(2);
  });

  it('hands messages to their handlers; ignores unknown ones and non-protocol lines', async () => {
    const { protocol, receive, input } = pair();
    const got: Message[] = [];
    protocol.on('new-credentials', (m) => got.push(m));
    receive({ type: 'welcome', capabilities: ['new-credentials'] });
    input.write('some log line from worker-runner\n');
    input.write('~{not json\n');
    receive({ type: 'no-such-message' });
    receive({ type: 'new-credentials', 'client-id': 'c', 'access-token': 't' });
    await tick();
    expect(got).toEqual([{ type: 'new-credentials', 'client-id': 'c', 'access-token': 't' }]);
  });
});

describe('configFromWorkerRunner', () => {
  it("maps worker-runner's JSON to the worker config, with dockerWorker over dockerWorkerConfigFile; other keys ignored", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wr-config-'));
    writeFileSync(join(dir, 'dw.yml'), 'capacity: 3\npollingIntervalMs: 2000\n');
    writeFileSync(
      join(dir, 'runner.json'),
      JSON.stringify({
        rootURL: 'https://tc.example.com',
        clientId: 'worker/static/prov/wt/g/w1',
        accessToken: 'tok',
        certificate: '{"version":1}',
        provisionerId: 'prov',
        workerType: 'wt',
        workerGroup: 'g',
        workerId: 'w1',
        publicIP: '203.0.113.9',
        privateIP: '10.0.0.9',
        instanceID: 'i-0abc',
        instanceType: 'm5.large',
        region: 'us-east-1',
        availabilityZone: 'us-east-1a',
        workerLocation: '{"cloud":"aws","region":"us-east-1","availabilityZone":"us-east-1a"}',
        cachesDir: '/generic-worker/caches', // generic-worker's own: ignored
        dockerWorkerConfigFile: join(dir, 'dw.yml'),
        // The instance's facts override the pool's, as in generic-worker's config.
        dockerWorker: { capacity: 4, publicIp: '198.51.100.1', chainOfTrust: { region: 'pool-region' } },
      }),
    );
    const config = await configFromWorkerRunner(join(dir, 'runner.json'));
    expect(config).toMatchObject({
      rootUrl: 'https://tc.example.com',
      taskcluster: {
        clientId: 'worker/static/prov/wt/g/w1',
        accessToken: 'tok',
        certificate: '{"version":1}',
      },
      taskQueueId: 'prov/wt',
      workerGroup: 'g',
      workerId: 'w1',
      capacity: 4,
      pollingIntervalMs: 2000,
      // TASKCLUSTER_PUBLIC_IP, TASKCLUSTER_INSTANCE_TYPE, TASKCLUSTER_WORKER_LOCATION
      publicIp: '203.0.113.9',
      instanceType: 'm5.large',
      workerLocation: '{"cloud":"aws","region":"us-east-1","availabilityZone":"us-east-1a"}',
      chainOfTrust: {
        publicIp: '203.0.113.9',
        privateIp: '10.0.0.9',
        instanceId: 'i-0abc',
        instanceType: 'm5.large',
        region: 'us-east-1',
      },
    });
  });

  it('says in one line what is wrong with a bad dockerWorker section', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wr-config-'));
    writeFileSync(
      join(dir, 'runner.json'),
      JSON.stringify({ rootURL: 'https://x', dockerWorker: { capacity: 0 } }),
    );
    await expect(configFromWorkerRunner(join(dir, 'runner.json'))).rejects.toThrow(/capacity must be >= 1/);
  });
});
