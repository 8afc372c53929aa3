import assert from 'node:assert/strict';
import { test } from 'node:test';
import { criMessageSerializer, criService } from '../cri/definition.js';
import { POD_SANDBOX_STATUS_TIMESTAMP_FIELD, int64Field, servedCriService, withMemoizedEncoding } from './served-encoding.js';

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

test('a stamped answer is encoded once per object, its timestamp at each call, and both decode together', () => {
  const service = criService('RuntimeService');
  const original = service.PodSandboxStatus!.responseSerialize as (value: unknown) => Buffer;
  let calls = 0;
  const countingSerialize = (value: object): Buffer => {
    calls++;
    return original(value);
  };
  const memo = withMemoizedEncoding({ ...service, PodSandboxStatus: { ...service.PodSandboxStatus!, responseSerialize: countingSerialize } }, { PodSandboxStatus: { stamp: POD_SANDBOX_STATUS_TIMESTAMP_FIELD } });
  const status = { id: 'sandbox-1', state: 'SANDBOX_READY', labels: { app: 'web' }, network: { ip: '172.17.0.5' } };
  const answer = { status, info: {}, containersStatuses: [] };
  const encode = (value: object) => memo.PodSandboxStatus!.responseSerialize(value as never);
  const decode = (bytes: Buffer) => service.PodSandboxStatus!.responseDeserialize(bytes) as { status: typeof status; info: Record<string, string>; timestamp: string };
  const before = BigInt(Date.now()) * 1_000_000n;
  const first = decode(encode(answer));
  const second = decode(encode(answer));
  const after = BigInt(Date.now()) * 1_000_000n;
  assert.equal(calls, 1, 'the answer object was encoded once');
  assert.equal(first.status.id, 'sandbox-1');
  assert.equal(second.status.network.ip, '172.17.0.5');
  assert.equal(second.status.labels.app, 'web');
  for (const { timestamp } of [first, second]) assert.ok(BigInt(timestamp) >= before && BigInt(timestamp) <= after, `timestamp ${timestamp} is the time of the answer`);
  // A new object (a verbose answer, a changed status) is encoded anew.
  const verbose = decode(encode({ ...answer, status: { ...status, state: 'SANDBOX_NOTREADY' }, info: { info: '{"pid":1}' } }));
  assert.equal(calls, 2);
  assert.equal(verbose.status.state, 'SANDBOX_NOTREADY');
  assert.equal(verbose.info.info, '{"pid":1}');
  assert.ok(BigInt(verbose.timestamp) >= before);
});

test('int64Field encodes the key and the value as varints', () => {
  assert.deepEqual([...int64Field(4, 0n)], [0x20, 0]);
  assert.deepEqual([...int64Field(4, 300n)], [0x20, 0xac, 0x02]);
  assert.deepEqual([...int64Field(16, 1n)], [0x80, 0x01, 1], 'a key over 15 takes two bytes');
  assert.equal(int64Field(1, -1n).length, 11, 'a negative int64 is ten bytes of varint');
  const nanos = 1_796_673_518_037_379_300n;
  const decoded = criService('RuntimeService').PodSandboxStatus!.responseDeserialize(int64Field(POD_SANDBOX_STATUS_TIMESTAMP_FIELD, nanos)) as { timestamp: string };
  assert.equal(decoded.timestamp, String(nanos));
});

test('a list made again encodes only its new items; the bytes are protobufjs\'s own for the whole list', () => {
  const service = criService('RuntimeService');
  const encodedItems: string[] = [];
  const countingItems = (type: string) => {
    const encode = criMessageSerializer(type);
    return (value: unknown) => {
      encodedItems.push((value as { id: string }).id);
      return encode(value);
    };
  };
  const memo = withMemoizedEncoding(service, { ListContainers: { items: 'containers', field: 1, type: 'runtime.v1.Container' } }, countingItems);
  const encode = (value: object) => memo.ListContainers!.responseSerialize(value as never);
  const item = (id: string, state = 'CONTAINER_RUNNING') => ({ id, podSandboxId: 'p', metadata: { name: id, attempt: 0 }, state, labels: { app: 'web', long: 'x'.repeat(200) }, annotations: {} });
  const a = item('a');
  const b = item('b');
  const first = encode({ containers: [a, b] });
  assert.ok(first.equals(service.ListContainers!.responseSerialize({ containers: [a, b] } as never)), 'the same bytes as the whole list encoded at once (an item over 127 bytes: a two-byte length)');
  assert.deepEqual(encodedItems, ['a', 'b']);
  // b changed: a new list object holding a's same object and a new b
  const b2 = item('b', 'CONTAINER_EXITED');
  const second = encode({ containers: [a, b2] });
  assert.deepEqual(encodedItems, ['a', 'b', 'b'], 'only the changed item was encoded again');
  const decoded = service.ListContainers!.responseDeserialize(second) as { containers: Array<{ id: string; state: string; labels: Record<string, string> }> };
  assert.deepEqual(decoded.containers.map((c) => [c.id, c.state, c.labels.app]), [['a', 'CONTAINER_RUNNING', 'web'], ['b', 'CONTAINER_EXITED', 'web']]);
  // an empty list, and answers that are not a plain list, are encoded whole
  assert.deepEqual(service.ListContainers!.responseDeserialize(encode({ containers: [] })), { containers: [] });
  encode({ containers: [a], extra: 1 });
  assert.deepEqual(encodedItems, ['a', 'b', 'b'], 'an answer with another field goes to the whole encoder');
});

test('the served lists (containers, pod sandboxes, images) decode as encoded whole', () => {
  const runtime = servedCriService('RuntimeService');
  const images = servedCriService('ImageService');
  const pods = { items: [{ id: 's1', metadata: { name: 'p', uid: 'u', namespace: 'n', attempt: 1 }, state: 'SANDBOX_READY', createdAt: '5', labels: { a: 'b' }, annotations: {}, runtimeHandler: '' }] };
  const pictures = { images: [{ id: 'sha256:1', repoTags: ['busybox:latest'], repoDigests: [], size: '1024', uid: null, username: '', spec: null, pinned: false }] };
  const whole = (service: Record<string, { responseSerialize: (v: never) => Buffer }>, method: string, value: object) => service[method]!.responseSerialize(value as never);
  assert.ok(whole(runtime, 'ListPodSandbox', pods).equals(criService('RuntimeService').ListPodSandbox!.responseSerialize(pods as never)));
  assert.ok(whole(images, 'ListImages', pictures).equals(criService('ImageService').ListImages!.responseSerialize(pictures as never)));
  assert.equal((images.ListImages!.responseDeserialize(whole(images, 'ListImages', pictures)) as typeof pictures).images[0]!.size, '1024');
});
