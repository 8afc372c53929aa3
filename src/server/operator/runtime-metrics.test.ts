import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { GrpcCode } from '../../common/errors.js';
import { mascriVersion } from '../../common/version.js';
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

const BUILD = { instance: 'node-a', dockerCli: 'docker' };

describe('RuntimeMetrics', () => {
  test('RPCs by method and code, latency per method, errors by code, docker calls, pods and containers', async () => {
    const store = [container('sandbox', 'running'), container('container', 'running')];
    const metrics = new RuntimeMetrics(() => store, BUILD);
    metrics.observeRpc('RuntimeService/Version', GrpcCode.OK, 2);
    metrics.observeRpc('RuntimeService/Version', GrpcCode.OK, 4);
    metrics.observeRpc('RuntimeService/PodSandboxStatus', GrpcCode.NOT_FOUND, 1);
    metrics.observeDocker(['image', 'inspect', 'x'], 30, true);
    metrics.observeDocker(['ps', '-a'], 10, false);
    metrics.observeHttp('/healthz', 200);
    const text = await metrics.render();
    assert.match(text, /^mascri_grpc_requests_total\{method="RuntimeService\/Version",code="OK"\} 2$/m);
    assert.match(text, /^mascri_grpc_requests_total\{method="RuntimeService\/PodSandboxStatus",code="NotFound"\} 1$/m);
    assert.match(text, /^mascri_grpc_request_duration_seconds_count\{method="RuntimeService\/Version"\} 2$/m);
    assert.match(text, /^mascri_grpc_request_duration_seconds_sum\{method="RuntimeService\/Version"\} 0\.006$/m);
    assert.match(text, /^mascri_grpc_request_duration_seconds_bucket\{le="0\.0025",method="RuntimeService\/Version"\} 1$/m);
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
    assert.match(await metrics.render(), /^mascri_containers\{state="CONTAINER_EXITED"\} 1$/m);
  });

  test('a histogram: HELP, TYPE, the cumulative buckets from half a millisecond to a minute, +Inf, sum and count', async () => {
    const metrics = new RuntimeMetrics(() => [], BUILD);
    metrics.observeDocker(['pull', 'busybox'], 2, true);
    metrics.observeDocker(['pull', 'busybox'], 1000, true); // on a bound: counted in it (le is "less or equal")
    metrics.observeDocker(['pull', 'busybox'], 90_000, true);
    const family = (await metrics.render()).split('\n\n').find((block) => block.startsWith('# HELP mascri_docker_call_duration_seconds '));
    const counts = [0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2];
    const bounds = ['0.0005', '0.001', '0.0025', '0.005', '0.01', '0.025', '0.05', '0.1', '0.25', '0.5', '1', '2.5', '5', '10', '30', '60'];
    assert.deepEqual(family?.trimEnd().split('\n'), [
      '# HELP mascri_docker_call_duration_seconds Time a docker CLI call took, by subcommand.',
      '# TYPE mascri_docker_call_duration_seconds histogram',
      ...bounds.map((le, i) => `mascri_docker_call_duration_seconds_bucket{le="${le}",command="pull"} ${counts[i]}`),
      'mascri_docker_call_duration_seconds_bucket{le="+Inf",command="pull"} 3',
      'mascri_docker_call_duration_seconds_sum{command="pull"} 91.002',
      'mascri_docker_call_duration_seconds_count{command="pull"} 3',
    ]);
  });

  test('label values are escaped: backslash, double quote, newline', async () => {
    const metrics = new RuntimeMetrics(() => [], BUILD);
    metrics.observeDocker(['say "hi"\\\n'], 1, true);
    assert.match(await metrics.render(), /^mascri_docker_calls_total\{command="say \\"hi\\"\\\\\\n",ok="true"\} 1$/m);
  });

  test('mascri_build_info: the version, the instance and the docker CLI, label values escaped', async () => {
    const metrics = new RuntimeMetrics(() => [], { instance: '', dockerCli: '/opt/my "docker"\\bin\ndocker' });
    const text = await metrics.render();
    assert.match(text, /^# TYPE mascri_build_info gauge$/m);
    assert.ok(text.includes(`\nmascri_build_info{version="${mascriVersion()}",instance_name="",docker_cli="/opt/my \\"docker\\"\\\\bin\\ndocker"} 1\n`), text);
  });

  test('the Content-Type is the text format, version 0.0.4; mascri_process_memory_bytes as scripts/soak.mjs reads it', async () => {
    const metrics = new RuntimeMetrics(() => [], BUILD);
    assert.equal(metrics.contentType, 'text/plain; version=0.0.4; charset=utf-8');
    assert.match(await metrics.render(), /^mascri_process_memory_bytes\{kind="heap_used"\} [1-9]\d*$/m);
  });

  test("prom-client's process metrics under their usual names, in every server of the process that asks for them", async () => {
    assert.doesNotMatch(await new RuntimeMetrics(() => [], BUILD).render(), /process_cpu_seconds_total/);
    for (const metrics of [new RuntimeMetrics(() => [], BUILD).withProcessMetrics(), new RuntimeMetrics(() => [], BUILD).withProcessMetrics()]) {
      const text = await metrics.render();
      assert.match(text, /^# TYPE process_cpu_seconds_total counter$/m);
      assert.match(text, /^process_resident_memory_bytes [1-9]\d*$/m);
      assert.match(text, /^# TYPE nodejs_eventloop_lag_seconds gauge$/m);
    }
  });
});
