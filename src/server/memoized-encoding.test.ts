import assert from 'node:assert/strict';
import { test } from 'node:test';
import { criService } from '../cri/definition.js';
import { withMemoizedEncoding } from './server.js';

test('a list answer object is encoded once; a new object is encoded again', () => {
  const service = criService('RuntimeService');
  const memo = withMemoizedEncoding(service, { ListContainers: 'answer' });
  let calls = 0;
  const original = service.ListContainers!.responseSerialize as (value: unknown) => Buffer;
  const countingSerialize = (value: object): Buffer => {
    calls++;
    return original(value);
  };
  const counting = withMemoizedEncoding({ ...service, ListContainers: { ...service.ListContainers!, responseSerialize: countingSerialize } }, { ListContainers: 'answer' });
  const answer = { containers: [{ id: 'abc', podSandboxId: 'p', state: 'CONTAINER_RUNNING', labels: { a: 'b' } }] };
  const first = counting.ListContainers!.responseSerialize(answer);
  const second = counting.ListContainers!.responseSerialize(answer);
  assert.equal(calls, 1);
  assert.equal(first, second);
  counting.ListContainers!.responseSerialize({ containers: [] });
  assert.equal(calls, 2);
  // The encoding is the real one: it decodes back to the same message.
  const decoded = memo.ListContainers!.responseDeserialize(memo.ListContainers!.responseSerialize(answer)) as { containers: Array<{ id: string }> };
  assert.equal(decoded.containers[0]!.id, 'abc');
  assert.equal(memo.Version, service.Version, 'other methods are untouched');
});

test('a memoized field is encoded once per object; the rest of the answer is encoded per call and both decode together', () => {
  const service = criService('RuntimeService');
  const original = service.PodSandboxStatus!.responseSerialize as (value: unknown) => Buffer;
  const seen: unknown[] = [];
  const countingSerialize = (value: object): Buffer => {
    seen.push(value);
    return original(value);
  };
  const memo = withMemoizedEncoding({ ...service, PodSandboxStatus: { ...service.PodSandboxStatus!, responseSerialize: countingSerialize } }, { PodSandboxStatus: { field: 'status' } });
  const status = { id: 'sandbox-1', state: 'SANDBOX_READY', labels: { app: 'web' }, network: { ip: '172.17.0.5' } };
  const encode = (answer: object) => memo.PodSandboxStatus!.responseSerialize(answer as never);
  const decode = (bytes: Buffer) => service.PodSandboxStatus!.responseDeserialize(bytes) as { status: typeof status; info: Record<string, string>; timestamp: string };
  const first = decode(encode({ status, info: {}, timestamp: 1000 }));
  const second = decode(encode({ status, info: { info: '{"pid":1}' }, timestamp: 2000 }));
  const withStatus = seen.filter((value) => (value as { status?: unknown }).status !== undefined);
  assert.equal(withStatus.length, 1, 'the status object was encoded once');
  assert.equal(first.status.id, 'sandbox-1');
  assert.equal(second.status.network.ip, '172.17.0.5');
  assert.equal(second.status.labels.app, 'web');
  assert.equal(String(first.timestamp), '1000');
  assert.equal(String(second.timestamp), '2000', 'the per-call part is not memoized');
  assert.equal(second.info.info, '{"pid":1}');
  // A new status object is encoded anew; an answer without one is encoded whole.
  assert.equal(decode(encode({ status: { ...status, state: 'SANDBOX_NOTREADY' }, info: {}, timestamp: 3 })).status.state, 'SANDBOX_NOTREADY');
  assert.equal(decode(encode({ status: null, info: {}, timestamp: 4 })).status, null);
});
