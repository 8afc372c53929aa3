import assert from 'node:assert/strict';
import { createServer, type AddressInfo } from 'node:net';
import { describe, test } from 'node:test';
import { PodNetwork, relayArgs } from './network.js';
import { PORT_RELAY_PATH } from './port-relay.js';

describe('connections into a pod', () => {
  test('the relay runs in the network namespace of the pid, with the port', () => {
    assert.deepEqual(relayArgs(42, 8080, '/usr/bin/node'), ['--net=/proc/42/ns/net', '--', '/usr/bin/node', PORT_RELAY_PATH, '8080']);
  });

  // nsenter into a network namespace takes CAP_SYS_ADMIN; this one is the test's own.
  const root = process.getuid?.() === 0;
  test('bytes go both ways through nsenter and the relay, and a closed port is the relay\'s error', { skip: !root && 'nsenter needs root' }, async () => {
    const server = createServer((socket) => socket.pipe(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    try {
      const connection = new PodNetwork().connectInPod(process.pid, port);
      let echoed = '';
      connection.output.on('data', (chunk: Buffer) => (echoed += chunk.toString()));
      connection.input.end('ping');
      await connection.ended;
      assert.equal(echoed, 'ping');
    } finally {
      server.close();
    }
    const refused = new PodNetwork().connectInPod(process.pid, port);
    refused.input.end();
    await assert.rejects(refused.ended, /nothing listens on port \d+ in the pod/);
  });
});
