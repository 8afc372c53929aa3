/**
 * ListMetricDescriptors and ListPodSandboxMetrics end to end: cAdvisor-named metrics of a running pod,
 * read from its real cgroups and network namespace, checked against the host's own cgroup files and
 * `docker inspect`, with the labels the kubelet's /metrics/cadvisor passes through.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { BUSYBOX, MascriServer, TestPods, dockerInspect, setUpServerWithBusybox, shellContainer, waitFor } from '../helpers.js';

interface Metric {
  name: string;
  timestamp: string;
  metricType: string;
  labelValues: string[];
  value: { value: string } | null;
}

const NANOS = 1_000_000_000n;

/** The CPU time of the cgroup of process `pid`, in nanoseconds, as the host's files say (v1 cpuacct or v2 cpu.stat). */
function hostCpuNanos(pid: number): bigint {
  const lines = readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n');
  const v1 = lines.find((line) => line.split(':')[1]?.split(',').includes('cpuacct'));
  if (v1) {
    const path = v1.split(':').slice(2).join(':');
    const mount = ['/sys/fs/cgroup/cpuacct', '/sys/fs/cgroup/cpu,cpuacct'].find((dir) => existsSync(`${dir}${path}/cpuacct.usage`));
    if (!mount) throw new Error(`no cpuacct.usage for ${path}`);
    return BigInt(readFileSync(`${mount}${path}/cpuacct.usage`, 'utf8').trim());
  }
  const unified = lines.find((line) => line.startsWith('0::'))!.slice(3);
  const usec = /^usage_usec (\d+)$/m.exec(readFileSync(`/sys/fs/cgroup${unified}/cpu.stat`, 'utf8'))![1]!;
  return BigInt(usec) * 1000n;
}

describe('pod sandbox metrics', () => {
  let server: MascriServer;
  const pods = new TestPods(() => server);
  setUpServerWithBusybox(pods, (started) => (server = started));

  test('a running pod: its own and its containers\' metrics, with real values, cAdvisor\'s names and labels in the descriptors\' order', async () => {
    const { id: podId, config: podConfig } = await pods.pod('metrics');
    const podName = (podConfig.metadata as { name: string }).name;
    const gateway = 'route -n | awk \'$1=="0.0.0.0"{print $2}\'';
    // Half a core at most: the loop is throttled every period, which the CFS counters show.
    const burner = await pods.container(
      podId,
      podConfig,
      shellContainer('burner', `ping -c 2 -W 1 $(${gateway}) >/dev/null 2>&1; while :; do :; done`, { linux: { resources: { cpuPeriod: '100000', cpuQuota: '50000' } } }),
      true,
    );
    const idle = await pods.container(podId, podConfig, shellContainer('idle', 'sleep 1000'), true);

    const { descriptors } = await server.client.callRuntime('ListMetricDescriptors', {});
    const keysOf = new Map(descriptors.map((d) => [d.name, d.labelKeys]));
    assert.deepEqual(keysOf.get('container_cpu_usage_seconds_total'), ['container', 'id', 'image', 'name', 'namespace', 'pod']);
    assert.deepEqual(keysOf.get('container_network_receive_bytes_total'), ['container', 'id', 'image', 'name', 'namespace', 'pod', 'interface']);
    assert.ok(descriptors.every((d) => d.help !== ''), 'every descriptor has its help');

    type PodMetrics = { podSandboxId: string; metrics: Metric[]; containerMetrics: Array<{ containerId: string; metrics: Metric[] }> };
    const listPod = async () => ((await server.client.callRuntime('ListPodSandboxMetrics', {})).podMetrics as PodMetrics[]).find((p) => p.podSandboxId === podId);
    const labelsOf = (metric: Metric) => Object.fromEntries(keysOf.get(metric.name)!.map((key, i) => [key, metric.labelValues[i]]));
    const value = (metrics: Metric[], name: string) => {
      const found = metrics.find((m) => m.name === name);
      return found ? BigInt(found.value!.value) : undefined;
    };

    // A whole CPU second (two at half a core), one throttled period, and the pings' traffic.
    const pid = (await dockerInspect(burner))!.State.Pid as number;
    const before = hostCpuNanos(pid);
    const pod = await waitFor('a CPU second, a throttled period and pod traffic in the metrics', async () => {
      const found = await listPod();
      const mine = found?.containerMetrics.find((c) => c.containerId === burner)?.metrics ?? [];
      const cpu = value(mine, 'container_cpu_usage_seconds_total') ?? 0n;
      const throttled = value(mine, 'container_cpu_cfs_throttled_periods_total') ?? 0n;
      const tx = value(found?.metrics ?? [], 'container_network_transmit_bytes_total') ?? 0n;
      return cpu >= 1n && throttled > 0n && tx > 0n ? found : undefined;
    });
    const after = hostCpuNanos(pid);

    // Every metric has a descriptor and as many label values as its keys: the kubelet drops any other.
    const all = [...pod.metrics, ...pod.containerMetrics.flatMap((c) => c.metrics)];
    for (const metric of all) {
      assert.ok(keysOf.has(metric.name), `${metric.name} has a descriptor`);
      assert.equal(metric.labelValues.length, keysOf.get(metric.name)!.length, metric.name);
      assert.match(metric.metricType, /^(COUNTER|GAUGE)$/);
      assert.ok(BigInt(metric.timestamp) > 0n);
    }
    const series = all.map((m) => `${m.name}${JSON.stringify(m.labelValues)}`);
    assert.equal(new Set(series).size, series.length, 'no series twice (Prometheus refuses a repeated one)');

    assert.deepEqual(pod.containerMetrics.map((c) => c.containerId).sort(), [burner, idle].sort());
    const burnerMetrics = pod.containerMetrics.find((c) => c.containerId === burner)!.metrics;
    const inspect = (await dockerInspect(burner))!;
    assert.deepEqual(labelsOf(burnerMetrics.find((m) => m.name === 'container_cpu_usage_seconds_total')!), {
      container: 'burner',
      id: burner,
      image: BUSYBOX,
      name: (inspect.Name as string).replace(/^\//, ''),
      namespace: 'e2e',
      pod: podName,
    });

    // Whole CPU seconds between what the host's cgroup said before and after the call.
    const cpu = value(burnerMetrics, 'container_cpu_usage_seconds_total')!;
    assert.ok(before / NANOS <= cpu && cpu <= after / NANOS, `${before} ns <= ${cpu} s <= ${after} ns`);
    assert.ok(value(burnerMetrics, 'container_cpu_user_seconds_total')! <= cpu + 1n);
    assert.equal(burnerMetrics.find((m) => m.name === 'container_cpu_usage_seconds_total')!.metricType, 'COUNTER');
    assert.ok(value(burnerMetrics, 'container_cpu_cfs_periods_total')! >= value(burnerMetrics, 'container_cpu_cfs_throttled_periods_total')!);
    assert.equal(value(burnerMetrics, 'container_spec_cpu_quota'), 50000n);
    assert.equal(value(burnerMetrics, 'container_spec_cpu_period'), 100000n);
    const workingSet = value(burnerMetrics, 'container_memory_working_set_bytes')!;
    assert.ok(workingSet > 0n && workingSet <= value(burnerMetrics, 'container_memory_usage_bytes')!, `working set ${workingSet}`);
    assert.equal(burnerMetrics.find((m) => m.name === 'container_memory_working_set_bytes')!.metricType, 'GAUGE');
    assert.equal(value(burnerMetrics, 'container_spec_memory_limit_bytes'), 0n, 'no memory limit');
    assert.ok(value(burnerMetrics, 'container_processes')! >= 1n);
    const started = BigInt(Date.parse(inspect.State.StartedAt as string)) / 1000n;
    assert.equal(value(burnerMetrics, 'container_start_time_seconds'), started);
    const lastSeen = value(burnerMetrics, 'container_last_seen')!;
    assert.ok(lastSeen >= started && lastSeen <= BigInt(Date.now()) / 1000n + 1n);

    // The idle container has no quota: no CFS counters, as cAdvisor.
    const idleMetrics = pod.containerMetrics.find((c) => c.containerId === idle)!.metrics;
    assert.equal(value(idleMetrics, 'container_cpu_cfs_periods_total'), undefined);
    assert.equal(labelsOf(idleMetrics[0]!).container, 'idle');

    // The pod's own metrics: its pause container (container "POD") and its network, per interface.
    const network = pod.metrics.filter((m) => m.name === 'container_network_transmit_bytes_total');
    assert.deepEqual(network.map((m) => labelsOf(m).interface), ['eth0'], 'loopback left out');
    const { container, id, namespace, pod: podLabel } = labelsOf(network[0]!);
    assert.deepEqual({ container, id, namespace, pod: podLabel }, { container: 'POD', id: podId, namespace: 'e2e', pod: podName });
    assert.ok(value(pod.metrics, 'container_network_receive_bytes_total')! > 0n, 'the ping replies came back');
    assert.equal(value(pod.metrics, 'container_network_receive_errors_total'), 0n);
    assert.ok(value(pod.metrics, 'container_memory_working_set_bytes')! > 0n, 'the pause container');

    // The streaming form sends the same pods.
    const streamed: PodMetrics[] = await new Promise((resolve, reject) => {
      const received: PodMetrics[] = [];
      const stream = server.client.runtime.StreamPodSandboxMetrics({});
      stream.on('data', (batch: { podSandboxMetrics: PodMetrics[] }) => received.push(...batch.podSandboxMetrics));
      stream.on('end', () => resolve(received));
      stream.on('error', reject);
    });
    assert.ok(streamed.some((p) => p.podSandboxId === podId));

    // A stopped pod has no metrics.
    await server.client.callRuntime('StopPodSandbox', { podSandboxId: podId });
    assert.equal(await listPod(), undefined);
  });
});
