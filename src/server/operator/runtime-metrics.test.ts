import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { GrpcCode } from '../../common/errors.js';
import type { DockerContainerInspect } from '../../docker/types.js';
import { RuntimeMetrics, countByState, dockerCommand } from './runtime-metrics.js';

function container(type: 'sandbox' | 'container' | undefined, status: string): DockerContainerInspect {
  return {
    Id: Math.random().toString(16).slice(2),
    Config: { Labels: type ? { 'io.mascri.type': type } : {} },
    State: { Status: status, Running: status === 'running' },
  } as unknown as DockerContainerInspect;
}

describe('dockerCommand', () => {
  test('the subcommand, with the management command in front when there is one', () => {
    assert.equal(dockerCommand(['ps', '--all', '--filter', 'label=x']), 'ps');
    assert.equal(dockerCommand(['image', 'inspect', 'busybox']), 'image inspect');
    assert.equal(dockerCommand(['container', 'inspect', 'abc']), 'container inspect');
    assert.equal(dockerCommand(['inspect', 'abc']), 'inspect');
    assert.equal(dockerCommand(['info', '--format', '{{json .}}']), 'info');
    assert.equal(dockerCommand(['image', '--help']), 'image');
    assert.equal(dockerCommand([]), 'unknown');
  });
});

describe('countByState', () => {
  test('pods by readiness and containers by CRI state; every state listed; other containers ignored', () => {
    const counts = countByState([
      container('sandbox', 'running'),
      container('sandbox', 'exited'),
      container('sandbox', 'running'),
      container('container', 'running'),
      container('container', 'created'),
      container('container', 'exited'),
      container('container', 'exited'),
      container(undefined, 'running'),
    ]);
    assert.deepEqual(counts.pods, { SANDBOX_READY: 2, SANDBOX_NOTREADY: 1 });
    assert.deepEqual(counts.containers, { CONTAINER_CREATED: 1, CONTAINER_RUNNING: 1, CONTAINER_EXITED: 2, CONTAINER_UNKNOWN: 0 });
  });
});

describe('RuntimeMetrics', () => {
  test('RPCs by method and code, latency per method, errors by code, docker calls, pods and containers', () => {
    const store = [container('sandbox', 'running'), container('container', 'running')];
    const metrics = new RuntimeMetrics(() => store);
    metrics.observeRpc('RuntimeService/Version', GrpcCode.OK, 2);
    metrics.observeRpc('RuntimeService/Version', GrpcCode.OK, 4);
    metrics.observeRpc('RuntimeService/PodSandboxStatus', GrpcCode.NOT_FOUND, 1);
    metrics.observeDocker(['image', 'inspect', 'x'], 30, true);
    metrics.observeDocker(['ps', '-a'], 10, false);
    metrics.observeHttp('/healthz', 200);
    const text = metrics.render();
    assert.match(text, /^mascri_grpc_requests_total\{method="RuntimeService\/Version",code="OK"\} 2$/m);
    assert.match(text, /^mascri_grpc_requests_total\{method="RuntimeService\/PodSandboxStatus",code="NotFound"\} 1$/m);
    assert.match(text, /^mascri_grpc_request_duration_seconds_count\{method="RuntimeService\/Version"\} 2$/m);
    assert.match(text, /^mascri_grpc_request_duration_seconds_sum\{method="RuntimeService\/Version"\} 0\.006$/m);
    assert.match(text, /^mascri_grpc_request_duration_seconds_bucket\{method="RuntimeService\/Version",le="0\.0025"\} 1$/m);
    assert.match(text, /^mascri_grpc_errors_total\{code="NotFound"\} 1$/m);
    assert.doesNotMatch(text, /^mascri_grpc_errors_total\{code="OK"\}/m);
    assert.match(text, /^mascri_docker_calls_total\{command="image inspect",ok="true"\} 1$/m);
    assert.match(text, /^mascri_docker_calls_total\{command="ps",ok="false"\} 1$/m);
    assert.match(text, /^mascri_docker_call_duration_seconds_count\{command="ps"\} 1$/m);
    assert.match(text, /^mascri_http_requests_total\{route="\/healthz",status="200"\} 1$/m);
    assert.match(text, /^mascri_pods\{state="SANDBOX_READY"\} 1$/m);
    assert.match(text, /^mascri_containers\{state="CONTAINER_RUNNING"\} 1$/m);
    assert.match(text, /^mascri_containers\{state="CONTAINER_EXITED"\} 0$/m);
    store.push(container('container', 'exited'));
    assert.match(metrics.render(), /^mascri_containers\{state="CONTAINER_EXITED"\} 1$/m);
    assert.equal(metrics.rpcCount({ method: 'RuntimeService/Version', code: 'OK' }), 2);
  });
});
