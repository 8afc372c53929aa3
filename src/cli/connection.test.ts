import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { status } from '@grpc/grpc-js';
import { DEFAULT_ENDPOINT } from '../cri/client.js';
import { describeError, isConnectionFailure, resolveEndpoints } from './connection.js';
import { UsageError } from './output.js';

/** An error shaped like the ServiceError grpc-js rejects with. */
function grpcError(code: number, details: string): Error {
  return Object.assign(new Error(`${code} ${status[code]}: ${details}`), { code, details, metadata: {} });
}

describe('resolveEndpoints', () => {
  test('defaults: mascri\'s socket for both services, 2s timeout', () => {
    assert.deepEqual(resolveEndpoints({}, {}), { runtime: DEFAULT_ENDPOINT, image: DEFAULT_ENDPOINT, timeoutMs: 2000 });
    assert.equal(DEFAULT_ENDPOINT, 'unix:///run/mascri/mascri.sock');
  });

  test('CONTAINER_RUNTIME_ENDPOINT beats the default and is also the image endpoint', () => {
    assert.deepEqual(resolveEndpoints({}, { CONTAINER_RUNTIME_ENDPOINT: 'unix:///env.sock' }), {
      runtime: 'unix:///env.sock',
      image: 'unix:///env.sock',
      timeoutMs: 2000,
    });
  });

  test('the -r flag beats CONTAINER_RUNTIME_ENDPOINT', () => {
    const endpoints = resolveEndpoints({ runtimeEndpoint: 'unix:///flag.sock' }, { CONTAINER_RUNTIME_ENDPOINT: 'unix:///env.sock' });
    assert.equal(endpoints.runtime, 'unix:///flag.sock');
    assert.equal(endpoints.image, 'unix:///flag.sock');
  });

  test('an empty flag falls back to the environment', () => {
    assert.equal(resolveEndpoints({ runtimeEndpoint: '' }, { CONTAINER_RUNTIME_ENDPOINT: 'unix:///env.sock' }).runtime, 'unix:///env.sock');
  });

  test('image endpoint: -i flag > IMAGE_SERVICE_ENDPOINT > runtime endpoint', () => {
    const env = { CONTAINER_RUNTIME_ENDPOINT: 'unix:///env.sock', IMAGE_SERVICE_ENDPOINT: 'unix:///img-env.sock' };
    assert.equal(resolveEndpoints({ imageEndpoint: 'unix:///img-flag.sock' }, env).image, 'unix:///img-flag.sock');
    assert.equal(resolveEndpoints({}, env).image, 'unix:///img-env.sock');
    assert.equal(resolveEndpoints({ runtimeEndpoint: 'unix:///flag.sock' }, { IMAGE_SERVICE_ENDPOINT: 'unix:///img-env.sock' }).runtime, 'unix:///flag.sock');
    assert.equal(resolveEndpoints({ runtimeEndpoint: 'unix:///flag.sock' }, {}).image, 'unix:///flag.sock');
  });

  test('the timeout is a Go-style duration or seconds', () => {
    assert.equal(resolveEndpoints({ timeout: '10s' }, {}).timeoutMs, 10_000);
    assert.equal(resolveEndpoints({ timeout: '1m30s' }, {}).timeoutMs, 90_000);
    assert.equal(resolveEndpoints({ timeout: '3' }, {}).timeoutMs, 3000);
    assert.equal(resolveEndpoints({ timeout: '250ms' }, {}).timeoutMs, 250);
  });

  test('a bad timeout is a UsageError', () => {
    assert.throws(() => resolveEndpoints({ timeout: 'soon' }, {}), UsageError);
  });
});

describe('isConnectionFailure', () => {
  test('UNAVAILABLE with a connection message is a connection failure', () => {
    assert.equal(isConnectionFailure(grpcError(status.UNAVAILABLE, 'No connection established. Last error: connect ENOENT /x.sock')), true);
    assert.equal(isConnectionFailure(grpcError(status.UNAVAILABLE, 'No connection established. Last error: connect ECONNREFUSED /x.sock')), true);
  });

  test('UNAVAILABLE from the runtime itself, other codes and plain objects are not', () => {
    assert.equal(isConnectionFailure(grpcError(status.UNAVAILABLE, 'pulling image "x": Cannot connect to the Docker daemon')), false);
    assert.equal(isConnectionFailure(grpcError(status.NOT_FOUND, 'No connection established')), false);
    assert.equal(isConnectionFailure({ code: status.UNAVAILABLE, details: 'No connection established' }), false);
    assert.equal(isConnectionFailure(new Error('No connection established')), false);
  });
});

describe('describeError', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mascri-connection-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('a UsageError is its message', () => {
    assert.equal(describeError(new UsageError('give one or more image IDs'), 'unix:///x.sock'), 'give one or more image IDs');
  });

  test('a gRPC error is "<CodeName>: <details>"', () => {
    assert.equal(describeError(grpcError(5, 'x'), 'unix:///x.sock'), 'NotFound: x');
    assert.equal(describeError(grpcError(status.FAILED_PRECONDITION, 'image is in use'), 'unix:///x.sock'), 'FailedPrecondition: image is in use');
    assert.equal(describeError(grpcError(status.UNAVAILABLE, 'the Docker daemon does not answer'), 'unix:///x.sock'), 'Unavailable: the Docker daemon does not answer');
  });

  test('a connection failure to a missing socket names the endpoint, the missing path and mascri serve', () => {
    const missing = join(dir, 'nosuch.sock');
    const endpoint = `unix://${missing}`;
    const message = describeError(grpcError(14, `No connection established. Last error: connect ENOENT ${missing}`), endpoint);
    assert.ok(message.includes(`cannot reach a CRI runtime at ${endpoint}`), message);
    assert.ok(message.includes(`${missing} does not exist`), message);
    assert.ok(message.includes(`mascri serve --listen ${endpoint}`), message);
  });

  test('the brief\'s example: code 14 for unix:///x.sock', () => {
    const message = describeError(grpcError(14, 'No connection established. Last error: connect ENOENT /x.sock'), 'unix:///x.sock');
    assert.match(message, /unix:\/\/\/x\.sock/);
    assert.match(message, /mascri serve/);
  });

  test('a connection failure to a socket file that exists shows gRPC\'s own details', () => {
    const path = join(dir, 'exists.sock');
    writeFileSync(path, '');
    const details = `No connection established. Last error: connect ECONNREFUSED ${path}`;
    const message = describeError(grpcError(14, details), path);
    assert.ok(message.includes(`(${details})`), message);
    assert.match(message, /mascri serve/);
  });

  test('a TCP endpoint shows the details (no socket file to look at)', () => {
    const details = 'No connection established. Last error: connect ECONNREFUSED 127.0.0.1:1';
    const message = describeError(grpcError(14, details), 'tcp://127.0.0.1:1');
    assert.ok(message.includes('cannot reach a CRI runtime at tcp://127.0.0.1:1'), message);
    assert.ok(message.includes(details), message);
  });

  test('other errors: their message; non-errors: their string', () => {
    assert.equal(describeError(new Error('plain failure'), 'unix:///x.sock'), 'plain failure');
    assert.equal(describeError('just a string', 'unix:///x.sock'), 'just a string');
  });
});
