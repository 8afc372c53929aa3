import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as protoLoader from '@grpc/proto-loader';
import { criService, LOADER_OPTIONS, PROTO_PATH, type CriServiceName } from './definition.js';

// The server's light definitions must be exactly what proto-loader (the client's) makes of the .proto.
const loaded = protoLoader.loadSync(PROTO_PATH, LOADER_OPTIONS);
const names: CriServiceName[] = ['RuntimeService', 'ImageService'];

test('every method of both services is there, with the path and streaming proto-loader gives it', () => {
  for (const name of names) {
    const reference = loaded[`runtime.v1.${name}`] as protoLoader.ServiceDefinition;
    const light = criService(name);
    assert.deepEqual(Object.keys(light).sort(), Object.keys(reference).sort());
    for (const [method, definition] of Object.entries(reference)) {
      assert.equal(light[method]!.path, definition.path);
      assert.equal(light[method]!.requestStream, definition.requestStream, method);
      assert.equal(light[method]!.responseStream, definition.responseStream, method);
      // Empty messages decode to the same defaults.
      assert.deepEqual(light[method]!.requestDeserialize(Buffer.alloc(0)), definition.requestDeserialize(Buffer.alloc(0)), method);
      assert.deepEqual(light[method]!.responseDeserialize(Buffer.alloc(0)), definition.responseDeserialize(Buffer.alloc(0)), method);
    }
  }
});

test('messages encode to the same bytes and decode to the same objects as with proto-loader', () => {
  const samples: Array<[CriServiceName, string, 'request' | 'response', object]> = [
    ['RuntimeService', 'RunPodSandbox', 'request', {
      config: {
        metadata: { name: 'web', namespace: 'default', uid: 'u-1', attempt: 2 },
        hostname: 'web', logDirectory: '/var/log/pods/x', labels: { app: 'web' }, annotations: { note: 'a=b' },
        portMappings: [{ protocol: 'UDP', containerPort: 53, hostPort: 5353, hostIp: '127.0.0.1' }],
        linux: { cgroupParent: '/kubepods', securityContext: { namespaceOptions: { network: 'NODE', pid: 'CONTAINER' }, runAsUser: { value: '1000' } } },
      },
      runtimeHandler: 'runc',
    }],
    ['RuntimeService', 'ContainerStatus', 'response', {
      status: {
        id: 'c1', state: 'CONTAINER_EXITED', createdAt: '1733150000123456789', startedAt: '1733150001000000000', finishedAt: '9223372036854775807',
        exitCode: 137, reason: 'OOMKilled', image: { image: 'busybox' }, imageRef: 'sha256:abc', labels: { a: 'b' },
        mounts: [{ containerPath: '/data', hostPath: '/tmp/d', readonly: true, propagation: 'PROPAGATION_BIDIRECTIONAL' }],
        resources: { linux: { memoryLimitInBytes: '67108864', cpuShares: '512' } },
      },
      info: { info: '{"pid":42}' },
    }],
    ['RuntimeService', 'ListContainerStats', 'response', {
      stats: [{ attributes: { id: 'c1', metadata: { name: 'app' } }, cpu: { timestamp: '1', usageCoreNanoSeconds: { value: '123456789012' } }, memory: { workingSetBytes: { value: '4096' } } }],
    }],
    ['ImageService', 'ListImages', 'response', {
      images: [{ id: 'sha256:1', repoTags: ['busybox:latest'], repoDigests: [], size: '1234567', uid: { value: '0' }, username: '', pinned: true }],
    }],
  ];
  for (const [service, method, direction, sample] of samples) {
    const reference = (loaded[`runtime.v1.${service}`] as protoLoader.ServiceDefinition)[method]!;
    const light = criService(service)[method]!;
    const [encodeRef, encodeLight, decodeRef, decodeLight] =
      direction === 'request'
        ? [reference.requestSerialize, light.requestSerialize, reference.requestDeserialize, light.requestDeserialize]
        : [reference.responseSerialize, light.responseSerialize, reference.responseDeserialize, light.responseDeserialize];
    const bytes = encodeRef(sample as never);
    assert.deepEqual(encodeLight(sample as never), bytes, `${method} ${direction}: same bytes`);
    const decoded = decodeLight(bytes);
    assert.deepEqual(decoded, decodeRef(bytes), `${method} ${direction}: same object`);
  }
  // 64-bit integers stay exact decimal strings, enums names.
  const status = criService('RuntimeService').ContainerStatus!;
  const back = status.responseDeserialize(status.responseSerialize({ status: { finishedAt: '9223372036854775807', state: 'CONTAINER_RUNNING' } })) as { status: { finishedAt: string; state: string } };
  assert.equal(back.status.finishedAt, '9223372036854775807');
  assert.equal(back.status.state, 'CONTAINER_RUNNING');
});

test('an array where a message belongs is refused, not encoded', () => {
  assert.throws(() => criService('RuntimeService').Version!.responseSerialize([] as never), /expected an object/);
});
