/**
 * Exec, attach and port-forward through the kubelet's own streaming endpoints (/exec, /attach,
 * /portForward on its authenticated port), over SPDY and WebSocket: the kubelet asks mascri for a
 * streaming URL and proxies the connection to mascri's streaming server.
 */
import assert from 'node:assert/strict';
import { PassThrough, Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { startPortForward } from '../../src/cli/streaming-client/port-forward.js';
import { streamRemoteCommand } from '../../src/cli/streaming-client/remote-command.js';
import type { Transport } from '../../src/cli/streaming-client/dial.js';
import { waitFor } from '../helpers.js';
import { busybox, KubeletNode, staticPod } from './node.js';

let node: KubeletNode;
const POD = 'streams';

before(async () => {
  node = await KubeletNode.up();
  const echo = (name: string) => busybox(name, 'while read line; do echo "got $line"; [ "$line" = quit ] && exit 0; done', { stdin: true });
  node.applyPod(
    staticPod(POD, [{ name: 'httpd', image: 'localhost:5000/httpd:latest', imagePullPolicy: 'IfNotPresent' }, busybox('shell', 'exec sleep 3600'), echo('attach-spdy'), echo('attach-websocket')], { restartPolicy: 'OnFailure' }),
  );
  await node.waitForRunning(POD);
});

after(async () => {
  await node?.down();
});

class Collect extends Writable {
  text = '';
  override _write(chunk: Buffer, _encoding: string, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

function kubeletUrl(path: string, query: Array<[string, string]>): URL {
  const url = new URL(`${node.url}${path}`);
  for (const [key, value] of query) url.searchParams.append(key, value);
  return url;
}

for (const transport of ['spdy', 'websocket'] as Transport[]) {
  describe(`over ${transport}`, () => {
    test('exec: output, stderr, stdin and the exit code', async () => {
      const stdout = new Collect();
      const stderr = new Collect();
      const stdin = new PassThrough();
      const url = kubeletUrl(`/exec/default/${node.podName(POD)}/shell`, [
        ...['sh', '-c', 'read a; echo "out $a"; echo "err $a" >&2; exit 7'].map((c): [string, string] => ['command', c]),
        ['input', '1'], ['output', '1'], ['error', '1'],
      ]);
      const done = streamRemoteCommand({ url, transport, stdin, stdout, stderr, tty: false });
      stdin.end('hello\n');
      assert.equal(await done, 7);
      assert.equal(stdout.text, 'out hello\n');
      assert.equal(stderr.text, 'err hello\n');
    });

    test('exec with a TTY', async () => {
      const stdout = new Collect();
      const url = kubeletUrl(`/exec/default/${node.podName(POD)}/shell`, [['command', 'sh'], ['command', '-c'], ['command', '[ -t 1 ] && echo tty'], ['output', '1'], ['tty', '1']]);
      assert.equal(await streamRemoteCommand({ url, transport, stdout, tty: true }), 0);
      assert.equal(stdout.text.replace(/\r/g, ''), 'tty\n');
    });

    test('attach: stdin reaches the container and its output comes back', async () => {
      const stdout = new Collect();
      const stdin = new PassThrough();
      const url = kubeletUrl(`/attach/default/${node.podName(POD)}/attach-${transport}`, [['input', '1'], ['output', '1'], ['error', '1']]);
      const done = streamRemoteCommand({ url, transport, stdin, stdout, stderr: stdout, tty: false });
      stdin.write('one\n');
      await waitFor('the echo of the first line', async () => (stdout.text.includes('got one\n') ? true : undefined), 30_000);
      stdin.write('quit\n');
      // The container exits after "quit": the attach ends with it.
      assert.equal(await done, 0);
      assert.equal(stdout.text, 'got one\ngot quit\n');
    });

    test('port-forward to the httpd of the pod', async () => {
      const lines: string[] = [];
      const forwarder = await startPortForward({
        url: kubeletUrl(`/portForward/default/${node.podName(POD)}`, []),
        transport,
        pairs: [{ local: 0, remote: 80 }],
        urlFor: async (remote) => kubeletUrl(`/portForward/default/${node.podName(POD)}`, [['port', String(remote)]]),
        out: (line) => lines.push(line),
        err: (line) => lines.push(line),
      });
      try {
        for (let i = 0; i < 2; i++) {
          const response = await fetch(`http://127.0.0.1:${forwarder.ports[0]!.local}/`, { signal: AbortSignal.timeout(30_000) });
          assert.equal(response.status, 200);
          assert.match(await response.text(), /hello from mascri httpd/);
        }
      } finally {
        await forwarder.close();
      }
      assert.ok(!lines.some((line) => line.startsWith('an error occurred') || line.startsWith('error')), lines.join('\n'));
    });
  });
}
