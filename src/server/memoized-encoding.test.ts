import assert from 'node:assert/strict';
import { test } from 'node:test';
import { criService } from '../cri/definition.js';
import { withMemoizedEncoding } from './server.js';

test('a list answer object is encoded once; a new object is encoded again', () => {
  const service = criService('RuntimeService');
  const memo = withMemoizedEncoding(service, ['ListContainers']);
  let calls = 0;
  const original = service.ListContainers!.responseSerialize as (value: unknown) => Buffer;
  const countingSerialize = (value: object): Buffer => {
    calls++;
    return original(value);
  };
  const counting = withMemoizedEncoding({ ...service, ListContainers: { ...service.ListContainers!, responseSerialize: countingSerialize } }, ['ListContainers']);
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
