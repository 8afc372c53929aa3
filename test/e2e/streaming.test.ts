/**
 * Exec, Attach and PortForward end to end: the streaming server of a real `mascri serve`,
 * driven by mascri's client over SPDY/3.1 and WebSocket, against the real engine.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { get, request } from 'node:http';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Duplex } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { execa } from 'execa';
import { streamRemoteCommand } from '../../src/cli/streaming-client/remote-command.js';
import { silentLogger } from '../../src/common/logger.js';
import { CriClient } from '../../src/cri/client.js';
import { createDockerAdapter } from '../../src/docker/adapter.js';
import { MascriServer as InProcessServer } from '../../src/server/server.js';
import { SpdyConnection } from '../../src/streaming/spdy/connection.js';
import { TOKEN_TTL_MS } from '../../src/server/streaming/tokens.js';
import { BIN, BUSYBOX, HTTPD, MascriServer, PAUSE, TestPods, removeContainers, sandboxConfig, shellContainer, uniqueSuffix, waitFor } from '../helpers.js';

const TRANSPORTS = ['spdy', 'websocket'] as const;

describe('streaming: exec, attach, port-forward', () => {
  let server: MascriServer;
  let podId = '';
  let sleeper = '';
  let logDirectory = '';
  let config: ReturnType<typeof sandboxConfig>;
  const created: string[] = [];

  /** Creates and starts a container in the test pod. */
  async function startContainer(containerConfig: Record<string, unknown>): Promise<string> {
    const { containerId } = await server.client.callRuntime('CreateContainer', { podSandboxId: podId, config: containerConfig, sandboxConfig: config });
    created.push(containerId);
    await server.client.callRuntime('StartContainer', { containerId });
    return containerId;
  }

  /** Output of a command run with ExecSync (to look inside a container). */
  async function execSync(containerId: string, cmd: string[]): Promise<string> {
    return (await server.client.callRuntime('ExecSync', { containerId, cmd })).stdout.toString();
  }

  before(async () => {
    server = await MascriServer.start();
    await server.client.callImage('PullImage', { image: { image: BUSYBOX } });
    await server.client.callImage('PullImage', { image: { image: HTTPD } });
    config = sandboxConfig('streaming');
    logDirectory = config.logDirectory as string;
    podId = (await server.client.callRuntime('RunPodSandbox', { config })).podSandboxId;
    sleeper = await startContainer(shellContainer('sleeper', 'sleep 1000'));
  });

  after(async () => {
    await removeContainers([...created, podId].filter(Boolean));
    rmSync(logDirectory, { recursive: true, force: true });
    await server.stop();
  });

  test('Exec answers a loopback URL with a long random token; bad requests are clear errors', async () => {
    const { url } = await server.client.callRuntime('Exec', { containerId: sleeper, cmd: ['true'], stdout: true });
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/exec\/[A-Za-z0-9_-]{32,}$/);
    await assert.rejects(server.client.callRuntime('Exec', { containerId: 'nosuch', cmd: ['true'], stdout: true }), (error: { code: number }) => error.code === 5);
    await assert.rejects(server.client.callRuntime('Exec', { containerId: sleeper, cmd: [], stdout: true }), (error: { code: number }) => error.code === 3);
    await assert.rejects(server.client.callRuntime('Exec', { containerId: sleeper, cmd: ['true'] }), (error: { code: number }) => error.code === 3);
    await assert.rejects(server.client.callRuntime('PortForward', { podSandboxId: 'nosuch', port: [80] }), (error: { code: number }) => error.code === 5);
    const done = await startContainer(shellContainer('done', 'true'));
    await waitFor('the container to exit', async () => ((await server.client.callRuntime('ContainerStatus', { containerId: done })).status?.state === 'CONTAINER_EXITED' ? true : undefined));
    await assert.rejects(server.client.callRuntime('Exec', { containerId: done, cmd: ['true'], stdout: true }), (error: { code: number }) => error.code === 9);
  });

  for (const transport of TRANSPORTS) {
    test(`${transport}: stdin piped to the command (echo hi | mascri exec -i ID cat)`, async () => {
      const result = await server.cli(['exec', '-i', '--transport', transport, sleeper, 'cat'], { input: 'hi\n' });
      assert.equal(result.stderr, '');
      assert.equal(result.stdout, 'hi');
      assert.equal(result.code, 0);
    });

    test(`${transport}: stdout and stderr apart, and the exit code is mascri's (sh -c 'exit 7')`, async () => {
      const result = await server.cli(['exec', '--transport', transport, sleeper.slice(0, 12), 'sh', '-c', 'echo out; echo err >&2; exit 7']);
      assert.equal(result.stdout, 'out');
      assert.equal(result.stderr, 'err');
      assert.equal(result.code, 7);
      const plain = await server.cli(['exec', '--transport', transport, sleeper, 'sh', '-c', 'exit 7']);
      assert.equal(plain.code, 7);
    });

    test(`${transport}: large output arrives whole`, async () => {
      const result = await server.cli(['exec', '--transport', transport, sleeper, 'sh', '-c', 'head -c 3000000 /dev/zero | tr "\\0" x']);
      assert.equal(result.code, 0);
      assert.equal(result.stdout.length, 3_000_000);
    });

    test(`${transport}: with a TTY the terminal size reaches the process, and resizes follow`, async () => {
      // `script` gives mascri a terminal of 20x70; once the process has printed that size, another
      // process resizes it to 30x90 (when the test creates `resize`). The process prints each size
      // once it has it. stty sets rows and columns one at a time (30x70 passes by on the way).
      const flags = mkdtempSync(join(tmpdir(), 'mascri-e2e-resize-'));
      const resize = join(flags, 'resize');
      const command =
        `stty rows 20 cols 70; (while [ ! -e ${resize} ]; do sleep 0.05; done; stty -F /dev/tty rows 30 cols 90) & ` +
        `${process.execPath} ${BIN} -r ${server.endpoint} exec -t --transport ${transport} ${sleeper} sh -c ` +
        `'while [ "$(stty size)" != "20 70" ]; do sleep 0.05; done; stty size; while [ "$(stty size)" != "30 90" ]; do sleep 0.05; done; stty size; exit 4'`;
      const child = spawn('script', ['-qec', command, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
      child.stdin!.end();
      let output = '';
      child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
      let exitCode: number | null | undefined;
      child.on('close', (code) => (exitCode = code));
      const sizes = () => output.replace(/\r/g, '').split('\n').filter((line) => /^\d+ \d+$/.test(line));
      try {
        await waitFor('the first terminal size', async () => (sizes().length > 0 || exitCode !== undefined ? true : undefined));
        writeFileSync(resize, '');
        await waitFor('the exec to end', async () => (exitCode !== undefined ? true : undefined), 60_000);
      } finally {
        child.kill();
        rmSync(flags, { recursive: true, force: true });
      }
      assert.deepEqual(sizes(), ['20 70', '30 90'], output);
      assert.equal(exitCode, 4);
    });

    test(`${transport}: an interactive shell with a TTY (mascri exec -it ID sh)`, async () => {
      const command = `stty rows 25 cols 81; ${process.execPath} ${BIN} -r ${server.endpoint} exec -it --transport ${transport} ${sleeper} sh`;
      const child = spawn('script', ['-qec', command, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
      let output = '';
      child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      await waitFor('the shell prompt', async () => (output.includes('#') ? true : undefined), 20_000);
      child.stdin!.write('echo tty-$((6*7)); stty size\r');
      await waitFor('the shell to answer', async () => (/tty-42/.test(output) && /25 81/.test(output) ? true : undefined), 20_000);
      child.stdin!.write('exit 3\r');
      assert.equal(await exited, 3, output);
    });
  }

  test('a client that goes away takes its process with it', async () => {
    const child = spawn(process.execPath, [BIN, '-r', server.endpoint, 'exec', sleeper, 'sleep', '4242'], { stdio: 'ignore' });
    await waitFor('the exec to start', async () => ((await execSync(sleeper, ['ps'])).includes('sleep 4242') ? true : undefined));
    child.kill('SIGKILL');
    await waitFor('the process to be killed', async () => (!(await execSync(sleeper, ['ps'])).includes('sleep 4242') ? true : undefined));
  });

  for (const transport of TRANSPORTS) {
    test(`${transport}: attach to a running container with stdin`, async () => {
      const container = await startContainer(shellContainer(`attach-${transport}`, 'read line; echo "got $line"; exit 0', { stdin: true }));
      const result = await server.cli(['attach', '-i', '--transport', transport, container], { input: 'hello\n' });
      assert.match(result.stdout, /got hello/);
      assert.equal(result.code, 0, result.stderr);
    });

    test(`${transport}: attach to a container with a TTY`, async () => {
      const container = await startContainer(shellContainer(`attach-tty-${transport}`, 'exec sh', { stdin: true, tty: true }));
      const command = `stty rows 22 cols 77; ${process.execPath} ${BIN} -r ${server.endpoint} attach -i -t --transport ${transport} ${container}`;
      const child = spawn('script', ['-qec', command, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
      let output = '';
      child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      // Attached once the shell answers: each check sends it an empty line, until a prompt comes back.
      await waitFor('the attached shell\'s prompt', async () => {
        if (output.includes('# ')) return true;
        child.stdin!.write('\r');
        return undefined;
      });
      child.stdin!.write('echo attached-$((6*7)); stty size\r');
      await waitFor('the attached shell to answer', async () => (/attached-42/.test(output) && /22 77/.test(output) ? true : undefined), 20_000);
      child.stdin!.write('exit\r');
      assert.equal(await exited, 0, output);
    });
  }

  describe('port-forward', () => {
    let web = '';
    before(async () => {
      web = await startContainer({ metadata: { name: 'web', attempt: 0 }, image: { image: HTTPD }, logPath: 'web/0.log' });
      await startContainer(
        shellContainer('local-only', 'mkdir -p /tmp/www && echo "only on the pod loopback" > /tmp/www/index.html && exec httpd -f -p 127.0.0.1:9000 -h /tmp/www'),
      );
      await waitFor('httpd to listen', async () => ((await execSync(web, ['sh', '-c', 'wget -q -O - http://127.0.0.1:80/ || true'])).includes('hello from mascri httpd') ? true : undefined));
    });

    for (const transport of TRANSPORTS) {
      test(`${transport}: HTTP through forwarded ports, two connections at once, and a pod-loopback-only port`, async () => {
        const forwarder = await startPortForward(server.endpoint, ['port-forward', '--transport', transport, podId, ':80', '0:9000']);
        try {
          const [webPort, localPort] = forwarder.ports;
          const [a, b] = await Promise.all([httpGet(webPort!), httpGet(webPort!)]);
          assert.match(a, /hello from mascri httpd/);
          assert.match(b, /hello from mascri httpd/);
          assert.match(await httpGet(localPort!), /only on the pod loopback/);
          assert.match(await httpGet(webPort!), /hello from mascri httpd/, 'the forwarder keeps serving');
        } finally {
          await forwarder.stop();
        }
      });
    }

    test('client-go\'s SPDY-over-WebSocket tunnel (SPDY/3.1+portforward.k8s.io) carries a forwarded connection', async () => {
      const { url } = await server.client.callRuntime('PortForward', { podSandboxId: podId, port: [80] });
      const answer = await upgrade(url, 'websocket', 'SPDY/3.1+portforward.k8s.io');
      assert.equal(answer.status, 101);
      assert.equal(answer.protocol, 'SPDY/3.1+portforward.k8s.io');

      // As client-go does it: SPDY frames inside binary WebSocket messages, then an error and a data stream per connection.
      const { url: fresh } = await server.client.callRuntime('PortForward', { podSandboxId: podId, port: [80] });
      const connection = new SpdyConnection(await webSocketTunnel(fresh, 'SPDY/3.1+portforward.k8s.io'), 'client');
      try {
        const error = await connection.createStream({ streamtype: 'error', port: '80', requestid: '0' });
        error.end();
        const data = await connection.createStream({ streamtype: 'data', port: '80', requestid: '0' });
        const chunks: Buffer[] = [];
        data.on('data', (chunk: Buffer) => chunks.push(chunk));
        const ended = new Promise((resolve) => data.once('end', resolve).once('close', resolve));
        data.end('GET / HTTP/1.0\r\nHost: pod\r\n\r\n');
        await ended;
        const response = Buffer.concat(chunks).toString();
        assert.match(response, /^HTTP\/1\.[01] 200/);
        assert.match(response, /hello from mascri httpd/);
      } finally {
        await connection.close();
      }
    });

    test('a fixed local port, as in mascri port-forward POD 18080:80', async () => {
      const forwarder = await startPortForward(server.endpoint, ['port-forward', podId, '18080:80']);
      try {
        assert.deepEqual(forwarder.ports, [18080]);
        assert.match(await httpGet(18080), /hello from mascri httpd/);
      } finally {
        await forwarder.stop();
      }
    });

    test('a port nothing listens on is reported, and the forwarder goes on', async () => {
      const forwarder = await startPortForward(server.endpoint, ['port-forward', podId, ':9', ':80']);
      try {
        await httpGet(forwarder.ports[0]!).catch(() => '');
        await waitFor('the error line', async () => (/error occurred forwarding 9: .*connection refused/.test(forwarder.stderr()) ? true : undefined), 10_000);
        assert.match(await httpGet(forwarder.ports[1]!), /hello from mascri httpd/);
      } finally {
        await forwarder.stop();
      }
    });
  });

  test('a used token is refused with 404 and nothing runs again', async () => {
    const marker = `/tmp/runs-${Date.now()}`;
    const { url } = await server.client.callRuntime('Exec', { containerId: sleeper, cmd: ['sh', '-c', `echo run >> ${marker}`], stdout: true, stderr: true });
    const code = await streamRemoteCommand({ url: new URL(url), transport: 'spdy', stdout: process.stdout, stderr: process.stderr, tty: false });
    assert.equal(code, 0);
    assert.equal(await upgradeStatus(url, 'spdy'), 404);
    assert.equal(await upgradeStatus(url, 'websocket'), 404);
    assert.equal(await upgradeStatus(url.replace(/\/exec\/[^/]+$/, '/exec/not-a-token'), 'spdy'), 404);
    assert.equal(await execSync(sleeper, ['cat', marker]), 'run\n', 'the command ran exactly once');
    // A token is good for its own verb only.
    const attach = await server.client.callRuntime('Attach', { containerId: sleeper, stdout: true });
    assert.equal(await upgradeStatus(attach.url.replace('/attach/', '/exec/'), 'spdy'), 404);
  });

  test('an unused token expires after 30 s: 404, and nothing runs', async () => {
    // The 30 s pass on the streaming server's clock, moved on by the test rather than waited for: a
    // server in this process (its own instance, so that it holds only its own pod) with a clock it is given.
    let clockOffsetMs = 0;
    const dir = mkdtempSync(join(tmpdir(), 'mascri-e2e-clock-'));
    const own = await InProcessServer.start({
      listen: `unix://${join(dir, 'mascri.sock')}`,
      docker: createDockerAdapter(),
      log: silentLogger,
      podInfraImage: PAUSE,
      stateDir: join(dir, 'state'),
      instance: `clock-${uniqueSuffix()}`,
      streamingClock: () => Date.now() + clockOffsetMs,
    });
    const client = new CriClient(own.endpoint, own.endpoint, 30_000);
    const mine: string[] = [];
    try {
      const podConfig = sandboxConfig('token-clock', { logDirectory: join(dir, 'logs') });
      const { podSandboxId } = await client.callRuntime('RunPodSandbox', { config: podConfig });
      mine.push(podSandboxId);
      const { containerId } = await client.callRuntime('CreateContainer', { podSandboxId, config: shellContainer('waiter', 'sleep 1000'), sandboxConfig: podConfig });
      mine.push(containerId);
      await client.callRuntime('StartContainer', { containerId });
      const { url } = await client.callRuntime('Exec', { containerId, cmd: ['touch', '/tmp/expired-token-ran'], stdout: true });
      clockOffsetMs = TOKEN_TTL_MS;
      assert.equal(await upgradeStatus(url, 'spdy'), 404);
      const { stdout } = await client.callRuntime('ExecSync', { containerId, cmd: ['sh', '-c', 'test -e /tmp/expired-token-ran && echo ran || echo not run'] });
      assert.equal(stdout.toString(), 'not run\n');
    } finally {
      client.close();
      await removeContainers(mine);
      await own.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/**
 * A WebSocket offering `protocol` as one byte stream, the way client-go tunnels SPDY (binary messages).
 * Written out here because the ws client refuses sub-protocols with a "/", as this one has.
 */
function webSocketTunnel(url: string, protocol: string): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    const req = request(url, {
      headers: { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': randomBytes(16).toString('base64'), 'Sec-WebSocket-Protocol': protocol },
    });
    req.on('response', (response) => reject(new Error(`no upgrade: ${response.statusCode}`)));
    req.on('error', reject);
    req.on('upgrade', (response, socket, head) => {
      if (response.headers['sec-websocket-protocol'] !== protocol) return reject(new Error('the server chose another protocol'));
      let pending = head;
      const tunnel = new Duplex({
        read() {},
        write(chunk: Buffer, _encoding, done) {
          // One masked binary frame per write (clients must mask).
          const mask = randomBytes(4);
          const length = chunk.length;
          let header: Buffer;
          if (length < 126) header = Buffer.from([0x82, 0x80 | length]);
          else if (length < 65536) header = Buffer.from([0x82, 0x80 | 126, length >> 8, length & 0xff]);
          else {
            header = Buffer.alloc(10);
            header.writeUInt16BE(0x82ff, 0);
            header.writeBigUInt64BE(BigInt(length), 2);
          }
          const payload = Buffer.from(chunk.map((byte, i) => byte ^ mask[i % 4]!));
          socket.write(Buffer.concat([header, mask, payload]), done);
        },
        final(done) {
          socket.end();
          done();
        },
        destroy(error, done) {
          socket.destroy();
          done(error);
        },
      });
      const parse = () => {
        for (;;) {
          if (pending.length < 2) return;
          const opcode = pending[0]! & 0x0f;
          let length = pending[1]! & 0x7f;
          let offset = 2;
          if (length === 126) {
            if (pending.length < 4) return;
            length = pending.readUInt16BE(2);
            offset = 4;
          } else if (length === 127) {
            if (pending.length < 10) return;
            length = Number(pending.readBigUInt64BE(2));
            offset = 10;
          }
          if (pending.length < offset + length) return;
          const payload = pending.subarray(offset, offset + length);
          pending = pending.subarray(offset + length);
          if (opcode === 0x8) return void tunnel.push(null);
          if (opcode === 0x2 || opcode === 0x0) tunnel.push(payload);
        }
      };
      socket.on('data', (chunk: Buffer) => {
        pending = Buffer.concat([pending, chunk]);
        parse();
      });
      socket.on('end', () => tunnel.push(null));
      socket.on('error', (error) => tunnel.destroy(error));
      parse();
      resolve(tunnel);
    });
    req.end();
  });
}

/** Answers the HTTP status a SPDY or WebSocket upgrade to `url` gets (101 when it is accepted). */
async function upgradeStatus(url: string, transport: 'spdy' | 'websocket'): Promise<number> {
  return (await upgrade(url, transport, 'v4.channel.k8s.io')).status;
}

/** Tries a SPDY or WebSocket upgrade offering `protocol`; answers the status and the protocol chosen. */
function upgrade(url: string, transport: 'spdy' | 'websocket', protocol: string): Promise<{ status: number; protocol?: string }> {
  const headers: Record<string, string> =
    transport === 'spdy'
      ? { Connection: 'Upgrade', Upgrade: 'SPDY/3.1', 'X-Stream-Protocol-Version': protocol }
      : { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Protocol': protocol };
  return new Promise((resolve, reject) => {
    const req = request(url, { method: transport === 'spdy' ? 'POST' : 'GET', headers });
    req.on('upgrade', (response, socket) => {
      socket.destroy();
      const chosen = response.headers[transport === 'spdy' ? 'x-stream-protocol-version' : 'sec-websocket-protocol'];
      resolve({ status: response.statusCode ?? 0, protocol: Array.isArray(chosen) ? chosen[0] : chosen });
    });
    req.on('response', (response) => {
      response.resume();
      resolve({ status: response.statusCode ?? 0 });
    });
    req.on('error', reject);
    req.end();
  });
}

/** One HTTP GET on a fresh connection to 127.0.0.1:port; answers the body. */
function httpGet(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = get({ host: '127.0.0.1', port, path: '/', agent: false, timeout: 10_000 }, (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () => resolve(body));
    });
    req.on('timeout', () => req.destroy(new Error(`GET 127.0.0.1:${port} timed out`)));
    req.on('error', reject);
  });
}

/** Runs `mascri port-forward ...` until its "Forwarding from" lines are out; answers the local ports. */
async function startPortForward(endpoint: string, args: string[]): Promise<{ ports: number[]; stderr: () => string; stop: () => Promise<void> }> {
  const child: ChildProcess = spawn(process.execPath, [BIN, '-r', endpoint, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const wanted = args.filter((arg) => /^\d*:?\d+$/.test(arg)).length;
  const ports = await waitFor(
    'port-forward to listen',
    async () => {
      if (child.exitCode !== null) throw new Error(`mascri port-forward exited with ${child.exitCode}: ${stderr}`);
      const found = [...stdout.matchAll(/Forwarding from 127\.0\.0\.1:(\d+) -> \d+/g)].map((m) => Number(m[1]));
      return found.length >= wanted ? found : undefined;
    },
    15_000,
  );
  return {
    ports,
    stderr: () => stderr,
    stop: async () => {
      const exited = new Promise<void>((resolve) => (child.exitCode !== null ? resolve() : child.once('exit', () => resolve())));
      child.kill('SIGINT');
      await exited;
    },
  };
}

describe('streaming idle timeout (--stream-idle-timeout)', () => {
  let server: MascriServer;
  const pods = new TestPods(() => server);
  let sleeper = '';

  before(async () => {
    server = await MascriServer.start({ extraArgs: ['--stream-idle-timeout', '2s'] });
    await server.client.callImage('PullImage', { image: { image: BUSYBOX } });
    const pod = await pods.pod('idle');
    sleeper = await pods.container(pod.id, pod.config, shellContainer('sleeper', 'sleep 1000'), true);
  });
  after(async () => {
    await pods.cleanup();
    await server.stop();
  });

  const processes = async () => (await server.client.callRuntime('ExecSync', { containerId: sleeper, cmd: ['ps'] })).stdout.toString();

  test('a connection silent for longer is closed and its process ended; one with traffic lives on', async () => {
    const started = Date.now();
    const silent = execa(process.execPath, [BIN, '-r', server.endpoint, 'exec', sleeper, 'sleep', '4343'], { reject: false, timeout: 60_000 });
    const chatty = execa(process.execPath, [BIN, '-r', server.endpoint, 'exec', sleeper, 'sh', '-c', 'for i in 1 2 3 4 5 6 7 8; do echo tick $i; sleep 0.5; done'], { reject: false, timeout: 60_000 });
    await waitFor('the silent exec to start', async () => ((await processes()).includes('sleep 4343') ? true : undefined));
    const silentResult = await silent;
    assert.notEqual(silentResult.exitCode, 0, 'the client sees its connection end');
    assert.match(String(silentResult.stderr), /closed before the command's exit status arrived/);
    assert.ok(Date.now() - started >= 2000, 'not before the idle timeout');
    assert.ok(Date.now() - started < 30_000, 'well before the command would have ended');
    await waitFor('the silent process to be ended', async () => (!(await processes()).includes('sleep 4343') ? true : undefined));
    const chattyResult = await chatty;
    assert.equal(chattyResult.exitCode, 0, String(chattyResult.stderr));
    assert.equal(String(chattyResult.stdout).trim().split('\n').length, 8, 'every line of the 4 s command arrived');
    assert.match(server.logs, /streaming connection closed after being idle/);
  });
});
