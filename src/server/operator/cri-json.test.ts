import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { GrpcCode, notFound } from '../../common/errors.js';
import { loadCri } from '../../cri/proto.js';
import type { SomeCriHandlers } from '../cri-handlers.js';
import { CRI_ROUTES, callCriJson, httpStatusFor } from './cri-json.js';

const signal = new AbortController().signal;

function handlers(runtime: SomeCriHandlers['RuntimeService'] = {}, image: SomeCriHandlers['ImageService'] = {}): SomeCriHandlers {
  return { RuntimeService: runtime, ImageService: image };
}

describe('httpStatusFor', () => {
  test('each gRPC code the runtime answers has its HTTP status', () => {
    const cases: Array<[number, number]> = [
      [GrpcCode.OK, 200],
      [GrpcCode.INVALID_ARGUMENT, 400],
      [GrpcCode.UNAUTHENTICATED, 401],
      [GrpcCode.PERMISSION_DENIED, 403],
      [GrpcCode.NOT_FOUND, 404],
      [GrpcCode.ALREADY_EXISTS, 409],
      [GrpcCode.FAILED_PRECONDITION, 412],
      [GrpcCode.RESOURCE_EXHAUSTED, 429],
      [GrpcCode.INTERNAL, 500],
      [GrpcCode.UNKNOWN, 500],
      [GrpcCode.UNIMPLEMENTED, 501],
      [GrpcCode.UNAVAILABLE, 503],
      [GrpcCode.DEADLINE_EXCEEDED, 504],
    ];
    for (const [code, status] of cases) assert.equal(httpStatusFor(code), status, `code ${code}`);
  });
});

describe('CRI_ROUTES', () => {
  test('every route names a unary method of its service', () => {
    const cri = loadCri();
    for (const [path, route] of Object.entries(CRI_ROUTES)) {
      const definition = (cri.runtime.v1[route.service].service as unknown as Record<string, { requestStream: boolean; responseStream: boolean }>)[route.method];
      assert.ok(definition, `${path}: ${route.service}.${route.method} exists`);
      assert.equal(definition.requestStream || definition.responseStream, false, `${path} is unary`);
    }
  });
});

describe('callCriJson', () => {
  test('the handler gets the request as gRPC would decode it (defaults filled); the answer is protobuf JSON', async () => {
    let seen: unknown;
    const answer = await callCriJson(
      handlers({
        PodSandboxStatus: async (request) => {
          seen = request;
          return { status: { id: 'abc', state: 'SANDBOX_READY', createdAt: '17', labels: { a: 'b' } }, info: {} };
        },
      }),
      CRI_ROUTES['/v1/runtime/sandbox/status']!,
      { pod_sandbox_id: 'abc' }, // snake_case accepted
      signal,
    );
    assert.deepEqual(seen, { podSandboxId: 'abc', verbose: false });
    assert.equal(answer.status, 200);
    const body = answer.body as { status: Record<string, unknown>; info: unknown };
    assert.equal(body.status.id, 'abc');
    assert.equal(body.status.state, 'SANDBOX_READY');
    assert.equal(body.status.createdAt, '17');
    assert.deepEqual(body.status.labels, { a: 'b' });
    assert.equal(body.status.network, undefined, 'unset messages are left out');
    const timestamp = BigInt((answer.body as { timestamp: string }).timestamp);
    assert.ok(timestamp > BigInt(Date.now() - 60_000) * 1_000_000n, `the answer is stamped with its time as over gRPC (${timestamp})`);
  });

  test('a handler error becomes its HTTP status and { code, message }', async () => {
    const answer = await callCriJson(
      handlers({ PodSandboxStatus: async () => { throw notFound('no pod sandbox with ID "x"'); } }),
      CRI_ROUTES['/v1/runtime/sandbox/status']!,
      { podSandboxId: 'x' },
      signal,
    );
    assert.equal(answer.status, 404);
    assert.deepEqual(answer.body, { code: 'NotFound', message: 'no pod sandbox with ID "x"' });
  });

  test('a body that does not fit the request message is a 400 naming the field; the handler is not called', async () => {
    let called = false;
    const h = handlers({}, { ListImages: async () => { called = true; return { images: [] }; } });
    const unknown = await callCriJson(h, CRI_ROUTES['/v1/image/list']!, { filtr: {} }, signal);
    assert.equal(unknown.status, 400);
    assert.equal((unknown.body as { code: string }).code, 'InvalidArgument');
    assert.match((unknown.body as { message: string }).message, /request body: unknown field "filtr"/);
    const wrongType = await callCriJson(h, CRI_ROUTES['/v1/image/list']!, [], signal);
    assert.equal(wrongType.status, 400);
    assert.equal(called, false);
  });

  test('a method without a handler is 501', async () => {
    const answer = await callCriJson(handlers(), CRI_ROUTES['/v1/runtime/version']!, {}, signal);
    assert.equal(answer.status, 501);
    assert.equal((answer.body as { code: string }).code, 'Unimplemented');
  });
});
