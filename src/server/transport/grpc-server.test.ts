import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import http2 from 'node:http2';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import type { ServiceError } from '@grpc/grpc-js';
import { GrpcCode } from '../../common/errors.js';
import { CriClient } from '../../cri/client.js';
import { criService } from '../../cri/definition.js';
import { GrpcServer, parseTimeout, percentEncode, statusBlock, type ServerStreamCall, type UnaryCall } from './grpc-server.js';
import { HpackDecoder } from './hpack.js';

/** Waits until `check` holds (no fixed sleeps): polls every 10 ms up to `ms`. */
async function until(check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function rejectsWith(promise: Promise<unknown>, code: number, details?: RegExp): Promise<ServiceError> {
  const error = await promise.then(
    () => assert.fail('the call succeeded'),
    (e: ServiceError) => e,
  );
  assert.equal(error.code, code, `code ${error.code} (${error.details})`);
  if (details) assert.match(error.details, details);
  return error;
}

describe('the gRPC server (server/transport) with grpc-js and node http2 clients', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mascri-transport-'));
  const socket = join(dir, 'grpc.sock');
  const endpoint = `unix://${socket}`;
  let server: GrpcServer;
  let client: CriClient;
  const seen = { aborted: 0, streamDone: [] as number[], slowStarted: 0 };
  let releaseSlow: (() => void) | undefined;

  before(async () => {
    server = new GrpcServer({ maxReceiveMessageBytes: 64 * 1024 });
    const runtime = criService('RuntimeService');
    server.addService(runtime, {
      Version: async (call: UnaryCall) => ({ version: (call.request as { version: string }).version || 'none', runtimeName: 'test', runtimeVersion: 'ü', runtimeApiVersion: 'v1' }),
      // Fails with a message that needs percent-encoding.
      Status: () => Promise.reject({ code: GrpcCode.NOT_FOUND, details: 'no pod "ü%x"\nsecond line' }),
      // A large answer: more than the client's first flow-control windows (64 KiB).
      ListContainers: async () => ({ containers: Array.from({ length: 3000 }, (_, i) => ({ id: `${i}`.padStart(64, 'c'), podSandboxId: 'p'.repeat(64), labels: { n: String(i) } })) }),
      // Answers only when released; its abort signal is counted.
      ListPodSandbox: (call: UnaryCall) =>
        new Promise((resolve) => {
          seen.slowStarted++;
          call.signal.addEventListener('abort', () => seen.aborted++);
          releaseSlow = () => resolve({ items: [] });
        }),
    });
    server.addService(criService('ImageService'), {
      StreamImages: (call: ServerStreamCall) => {
        call.onDone((code) => seen.streamDone.push(code));
        const count = (call.request as { filter?: { image?: { image?: string } } }).filter?.image?.image === 'forever' ? Infinity : 3;
        if (count === Infinity) {
          call.write({ images: [{ id: 'first' }] });
          return; // never ends: the client cancels
        }
        for (let i = 0; i < count; i++) call.write({ images: [{ id: `i${i}` }] });
        call.end();
      },
    });
    await server.listen({ path: socket });
    client = new CriClient(endpoint);
  });

  after(async () => {
    client.close();
    server.forceShutdown();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a unary call: request decoded, response encoded (UTF-8 intact)', async () => {
    const answer = await client.callRuntime('Version', { version: 'v9' });
    assert.deepEqual({ ...answer }, { version: 'v9', runtimeName: 'test', runtimeVersion: 'ü', runtimeApiVersion: 'v1' });
  });

  test('many calls at once on one connection all get their own answer', async () => {
    const answers = await Promise.all(Array.from({ length: 200 }, (_, i) => client.callRuntime('Version', { version: `v${i}` })));
    assert.deepEqual(answers.map((a) => a.version), Array.from({ length: 200 }, (_, i) => `v${i}`));
  });

  test('an error status arrives with its code and its message as written', async () => {
    await rejectsWith(client.callRuntime('Status', {}), GrpcCode.NOT_FOUND, /^no pod "ü%x"\nsecond line$/);
  });

  test('a method without an implementation is UNIMPLEMENTED', async () => {
    await rejectsWith(client.callRuntime('ContainerStatus', { containerId: 'x' }), GrpcCode.UNIMPLEMENTED, /unknown method ContainerStatus for service runtime\.v1\.RuntimeService/);
  });

  test('an answer larger than the client\'s windows arrives whole (flow control)', async () => {
    const answer = await client.callRuntime('ListContainers', {});
    assert.equal(answer.containers.length, 3000);
    assert.equal(answer.containers[2999]!.labels.n, '2999');
  });

  test('a request above the limit is RESOURCE_EXHAUSTED', async () => {
    await rejectsWith(client.callRuntime('Version', { version: 'x'.repeat(100 * 1024) }), GrpcCode.RESOURCE_EXHAUSTED, /larger than max/);
    // The connection is still good.
    assert.equal((await client.callRuntime('Version', { version: 'after' })).version, 'after');
  });

  test('a server stream: its messages in order, then OK', async () => {
    const ids: string[] = [];
    await new Promise<void>((resolve, reject) => {
      const stream = client.image.StreamImages({});
      stream.on('data', (batch: { images: Array<{ id: string }> }) => ids.push(...batch.images.map((i) => i.id)));
      stream.on('end', resolve);
      stream.on('error', reject);
    });
    assert.deepEqual(ids, ['i0', 'i1', 'i2']);
    await until(() => seen.streamDone.includes(GrpcCode.OK));
  });

  test('a client cancelling a stream ends it on the server (CANCELLED)', async () => {
    const stream = client.image.StreamImages({ filter: { image: { image: 'forever' } } });
    await new Promise<void>((resolve) => stream.once('data', () => resolve()));
    stream.on('error', () => undefined);
    stream.cancel();
    await until(() => seen.streamDone.includes(GrpcCode.CANCELLED));
  });

  test('a deadline that passes aborts the call on the server and is DEADLINE_EXCEEDED', async () => {
    const before = seen.aborted;
    await rejectsWith(client.callRuntime('ListPodSandbox', {}, { timeoutMs: 200 }), GrpcCode.DEADLINE_EXCEEDED);
    await until(() => seen.aborted === before + 1);
    releaseSlow?.();
  });

  test('a graceful shutdown lets a running call finish and refuses new connections', async () => {
    const other = new GrpcServer({ maxReceiveMessageBytes: 1024 });
    const path = join(dir, 'other.sock');
    let release!: () => void;
    let started = false;
    other.addService(criService('RuntimeService'), {
      Version: () =>
        new Promise((resolve) => {
          started = true;
          release = () => resolve({ version: 'late' });
        }),
    });
    await other.listen({ path });
    const c = new CriClient(`unix://${path}`);
    try {
      const running = c.callRuntime('Version', {});
      await until(() => started);
      let stopped = false;
      const stopping = other.shutdown().then(() => (stopped = true));
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(stopped, false, 'the shutdown waits for the running call');
      release();
      assert.equal((await running).version, 'late');
      await stopping;
      await rejectsWith(c.callRuntime('Version', {}, { timeoutMs: 2000 }), GrpcCode.UNAVAILABLE);
    } finally {
      c.close();
      other.forceShutdown();
    }
  });

  describe('with node\'s own HTTP/2 client', () => {
    let session: http2.ClientHttp2Session;
    before(() => {
      session = http2.connect('http://localhost', { createConnection: () => connect(socket) });
    });
    after(() => session.close());

    /** One request; the response headers, body and trailers. */
    function request(headers: http2.OutgoingHttpHeaders, body: Buffer): Promise<{ headers: http2.IncomingHttpHeaders; body: Buffer; trailers: http2.IncomingHttpHeaders }> {
      return new Promise((resolve, reject) => {
        const stream = session.request(headers);
        const chunks: Buffer[] = [];
        let responseHeaders: http2.IncomingHttpHeaders = {};
        let trailers: http2.IncomingHttpHeaders = {};
        stream.on('response', (h) => (responseHeaders = h));
        stream.on('trailers', (t) => (trailers = t));
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () => resolve({ headers: responseHeaders, body: Buffer.concat(chunks), trailers }));
        stream.on('error', reject);
        stream.end(body);
      });
    }

    const versionRequest = (version: string) => criService('RuntimeService').Version!.requestSerialize({ version } as never);
    const message = (body: Buffer, compressed = false) => Buffer.concat([Buffer.from([compressed ? 1 : 0]), Buffer.from([0, 0, 0, 0].map((_, i) => (body.length >>> (24 - 8 * i)) & 0xff)), body]);

    test('a gzip-compressed request is read', async () => {
      const answer = await request(
        { ':method': 'POST', ':path': '/runtime.v1.RuntimeService/Version', 'content-type': 'application/grpc', te: 'trailers', 'grpc-encoding': 'gzip' },
        message(gzipSync(versionRequest('zipped')), true),
      );
      assert.equal(answer.trailers['grpc-status'], '0');
      const decoded = criService('RuntimeService').Version!.responseDeserialize(answer.body.subarray(5)) as { version: string };
      assert.equal(decoded.version, 'zipped');
    });

    test('a request that is not gRPC gets HTTP 415', async () => {
      const answer = await request({ ':method': 'POST', ':path': '/runtime.v1.RuntimeService/Version', 'content-type': 'application/json' }, Buffer.from('{}'));
      assert.equal(answer.headers[':status'], 415);
    });

    test('a request without a message is INTERNAL, named', async () => {
      const answer = await request({ ':method': 'POST', ':path': '/runtime.v1.RuntimeService/Version', 'content-type': 'application/grpc' }, Buffer.alloc(0));
      assert.equal(answer.headers['grpc-status'], String(GrpcCode.INTERNAL));
      assert.match(String(answer.headers['grpc-message']), /no message/);
    });
  });

  test('a client that does not speak HTTP/2 is closed; the server goes on', async () => {
    const raw = connect(socket);
    await new Promise<void>((resolve) => {
      raw.on('close', () => resolve());
      raw.on('error', () => undefined);
      raw.resume(); // read what the server sends, and its end
      raw.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    });
    assert.equal((await client.callRuntime('Version', { version: 'still' })).version, 'still');
  });
});

test('grpc-timeout values in every unit; malformed ones are ignored', () => {
  assert.equal(parseTimeout('1999870u'), 1999.87);
  assert.equal(parseTimeout('5S'), 5000);
  assert.equal(parseTimeout('2M'), 120_000);
  assert.equal(parseTimeout('1H'), 3_600_000);
  assert.equal(parseTimeout('250m'), 250);
  assert.equal(parseTimeout('1000000n'), 1);
  for (const bad of [undefined, '', 'S', '5s', '123456789S', '-5S', '5.5S']) assert.equal(parseTimeout(bad), undefined, String(bad));
});

test('grpc-message is percent-encoded UTF-8; plain ASCII is left as is', () => {
  assert.equal(percentEncode('no such pod "a"'), 'no such pod "a"');
  assert.equal(percentEncode('50% ü\n'), '50%25 %C3%BC%0A');
  assert.deepEqual(new HpackDecoder().decode(statusBlock({ code: 5, details: 'ü' })), [['grpc-status', '5'], ['grpc-message', '%C3%BC']]);
  assert.deepEqual(new HpackDecoder().decode(statusBlock({ code: 0 })), [['grpc-status', '0']]);
});
