import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { describe, test } from 'node:test';
import { GrpcCode, notFound } from '../common/errors.js';
import { chunk, listAsStream, STREAM_CHUNK_SIZE } from './list-streams.js';

describe('chunk', () => {
  test('batches of at most the chunk size, in order; nothing is one empty batch', () => {
    const items = Array.from({ length: 250 }, (_, i) => i);
    const batches = chunk(items);
    assert.deepEqual(batches.map((b) => b.length), [100, 100, 50]);
    assert.deepEqual(batches.flat(), items);
    assert.deepEqual(chunk([]), [[]]);
    assert.deepEqual(chunk([1, 2, 3], 3), [[1, 2, 3]]);
    assert.equal(STREAM_CHUNK_SIZE, 100);
  });
});

/** Enough of a server stream (transport/grpc-server.ts) for listAsStream. */
class FakeCall extends EventEmitter {
  written: unknown[] = [];
  ended = false;
  cancelled = false;
  readonly signal = new AbortController().signal;
  constructor(readonly request: unknown) {
    super();
  }
  write(message: unknown): void {
    this.written.push(message);
  }
  end(): void {
    this.ended = true;
    this.emit('finish');
  }
  fail(status: { code: number; details?: string }): void {
    this.emit('error', status);
  }
}

describe('listAsStream', () => {
  test('passes the request to the List handler and writes its items in batches under the stream key', async () => {
    let seen: unknown;
    const stream = listAsStream(async (request: unknown) => {
      seen = request;
      return { containers: Array.from({ length: 150 }, (_, i) => ({ id: String(i) })) };
    }, 'containers', 'containers');
    const call = new FakeCall({ filter: { state: null } });
    stream(call as never);
    await new Promise((resolve) => call.once('finish', resolve));
    assert.deepEqual(seen, { filter: { state: null } });
    assert.equal(call.written.length, 2);
    assert.equal((call.written[0] as { containers: unknown[] }).containers.length, 100);
    assert.equal((call.written[1] as { containers: unknown[] }).containers.length, 50);
  });

  test('a failing List handler ends the stream with its gRPC status', async () => {
    const stream = listAsStream(async () => {
      throw notFound('no such thing');
    }, 'items', 'podSandboxes');
    const call = new FakeCall({});
    const error = new Promise<{ code: number; details: string }>((resolve) => call.once('error', resolve));
    stream(call as never);
    assert.deepEqual(await error, { code: GrpcCode.NOT_FOUND, details: 'no such thing' });
    assert.deepEqual(call.written, []);
  });
});
