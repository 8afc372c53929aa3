import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { status } from '@grpc/grpc-js';
import { DEFAULT_ENDPOINT } from '../cri/client.js';
import { configPath, connectionHint, describeError, isConnectionFailure, resolveEndpoints, withContext } from './connection.js';
import { emptyConfig } from './crictl-config.js';
import { UsageError } from './output.js';

/** An error shaped like the ServiceError grpc-js rejects with. */
function grpcError(code: number, details: string): Error {
  return Object.assign(new Error(`${code} ${status[code]}: ${details}`), { code, details, metadata: {} });
}

describe('resolveEndpoints', () => {
  test('defaults: mascri\'s socket for both services, 2s timeout', () => {
    assert.deepEqual(resolveEndpoints({}, {}), { runtime: DEFAULT_ENDPOINT, image: DEFAULT_ENDPOINT, timeoutMs: 2000, debug: false, pullImageOnCreate: false, disablePullOnRun: false });
    assert.equal(DEFAULT_ENDPOINT, 'unix:///run/mascri/mascri.sock');
  });

  test('CONTAINER_RUNTIME_ENDPOINT beats the default and is also the image endpoint', () => {
    const endpoints = resolveEndpoints({}, { CONTAINER_RUNTIME_ENDPOINT: 'unix:///env.sock' });
    assert.equal(endpoints.runtime, 'unix:///env.sock');
    assert.equal(endpoints.image, 'unix:///env.sock');
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

  test('a bad timeout is a UsageError; 0 or less is the default', () => {
    assert.throws(() => resolveEndpoints({ timeout: 'soon' }, {}), UsageError);
    assert.equal(resolveEndpoints({ timeout: '0s' }, {}).timeoutMs, 2000);
  });

  test('the config file comes after the flags and the environment, before the default', () => {
    const file = { ...emptyConfig(), 'runtime-endpoint': 'unix:///file.sock', 'image-endpoint': 'unix:///file-img.sock', timeout: 7, debug: true, 'pull-image-on-create': true };
    const fromFile = resolveEndpoints({}, {}, file);
    assert.deepEqual([fromFile.runtime, fromFile.image, fromFile.timeoutMs, fromFile.debug, fromFile.pullImageOnCreate], ['unix:///file.sock', 'unix:///file-img.sock', 7000, true, true]);
    const env = { CONTAINER_RUNTIME_ENDPOINT: 'unix:///env.sock', IMAGE_SERVICE_ENDPOINT: 'unix:///env-img.sock' };
    assert.deepEqual([resolveEndpoints({}, env, file).runtime, resolveEndpoints({}, env, file).image], ['unix:///env.sock', 'unix:///env-img.sock']);
    const flags = resolveEndpoints({ runtimeEndpoint: 'unix:///flag.sock', timeout: '3s' }, env, file);
    assert.deepEqual([flags.runtime, flags.timeoutMs], ['unix:///flag.sock', 3000]);
    // A file's runtime endpoint without an image endpoint: the image endpoint follows the runtime one.
    assert.equal(resolveEndpoints({}, {}, { ...emptyConfig(), 'runtime-endpoint': 'unix:///file.sock' }).image, 'unix:///file.sock');
    assert.equal(resolveEndpoints({}, {}, { ...emptyConfig(), timeout: 0 }).timeoutMs, 2000);
  });
});

describe('configPath', () => {
  test('--config, then CRI_CONFIG_FILE, then /etc/crictl.yaml (not asked for)', () => {
    assert.deepEqual(configPath({ config: '/a.yaml' }, { CRI_CONFIG_FILE: '/b.yaml' }), { path: '/a.yaml', explicit: true });
    assert.deepEqual(configPath({}, { CRI_CONFIG_FILE: '/b.yaml' }), { path: '/b.yaml', explicit: true });
    assert.deepEqual(configPath({}, {}), { path: '/etc/crictl.yaml', explicit: false });
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

  test('a gRPC error is crictl\'s "rpc error: code = <CodeName> desc = <details>", after its context', () => {
    assert.equal(describeError(grpcError(5, 'x'), 'unix:///x.sock'), 'rpc error: code = NotFound desc = x');
    const wrapped = Object.assign(grpcError(status.FAILED_PRECONDITION, 'image is in use'), { crictlContext: ['listing images', 'call'] });
    assert.equal(describeError(wrapped, 'unix:///x.sock'), 'listing images: call: rpc error: code = FailedPrecondition desc = image is in use');
  });

  test('withContext adds crictl\'s words, the outermost first', async () => {
    const failing = withContext('outer', withContext('inner', Promise.reject(grpcError(5, 'gone'))));
    await assert.rejects(failing, (error: unknown) => describeError(error, 'unix:///x.sock') === 'outer: inner: rpc error: code = NotFound desc = gone');
  });

  test('nothing at the endpoint: crictl\'s connection validation error, with Go\'s errno words', () => {
    const message = describeError(grpcError(14, 'No connection established. Last error: connect ENOENT /x.sock'), 'unix:///x.sock');
    assert.equal(
      message,
      'validate service connection: validate CRI v1 runtime API for endpoint "unix:///x.sock": rpc error: code = Unavailable desc = connection error: desc = "transport: Error while dialing: dial unix /x.sock: connect: no such file or directory"',
    );
    const refused = describeError(grpcError(14, 'No connection established. Last error: connect ECONNREFUSED 127.0.0.1:1'), 'tcp://127.0.0.1:1');
    assert.match(refused, /dial tcp 127\.0\.0\.1:1: connect: connection refused"$/);
    const image = Object.assign(grpcError(14, 'No connection established. Last error: connect ENOENT /i.sock'), { criService: 'image' });
    assert.match(describeError(image, { runtime: 'unix:///r.sock', image: 'unix:///i.sock' }), /^validate service connection: validate CRI v1 image API for endpoint "unix:\/\/\/i\.sock"/);
  });

  test('for a person at a terminal: a hint naming the missing socket and mascri serve', () => {
    const missing = join(dir, 'nosuch.sock');
    const hint = connectionHint(grpcError(14, `No connection established. Last error: connect ENOENT ${missing}`), `unix://${missing}`)!;
    assert.ok(hint.includes(`${missing} does not exist`), hint);
    assert.ok(hint.includes(`mascri serve --listen unix://${missing}`), hint);
    assert.equal(connectionHint(grpcError(5, 'x'), 'unix:///x.sock'), undefined);
  });

  test('other errors: their message; non-errors: their string', () => {
    assert.equal(describeError(new Error('plain failure'), 'unix:///x.sock'), 'plain failure');
    assert.equal(describeError('just a string', 'unix:///x.sock'), 'just a string');
  });
});
