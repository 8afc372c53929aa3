import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeHost } from '../../docker/host-grants.js';
import type { CgroupSample } from './cgroup.js';
import { cpuUsage, memoryUsage, sumSamples, swapUsage } from './convert.js';
import { containerMetrics, containerSpec, metricDescriptors, METRICS, METRIC_LABEL_KEYS, NETWORK_LABEL_KEYS } from './metrics.js';
import { updateArgs } from './update-args.js';

const sample = (cpu: bigint, memory: bigint, extra: Partial<CgroupSample> = {}): CgroupSample => ({
  timestampNanos: 5n,
  cpu: { usageNanos: cpu },
  memory: { usageBytes: memory, workingSetBytes: memory / 2n, rssBytes: 1n, pageFaults: 2n, majorPageFaults: 0n },
  processes: 1,
  ...extra,
});

test('CRI CPU and memory messages: 64-bit figures as decimal strings, available bytes only with a limit', () => {
  const s = sample(7n, 100n);
  assert.deepEqual(cpuUsage(s, 3n), { timestamp: '5', usageCoreNanoSeconds: { value: '7' }, usageNanoCores: { value: '3' }, psi: undefined });
  assert.equal(memoryUsage(s)?.availableBytes, undefined);
  const limited = sample(0n, 100n);
  limited.memory!.limitBytes = 80n;
  assert.deepEqual(memoryUsage(limited)?.availableBytes, { value: '30' });
  limited.memory!.limitBytes = 10n;
  assert.deepEqual(memoryUsage(limited)?.availableBytes, { value: '0' });
  assert.deepEqual(swapUsage({ timestampNanos: 1n, swap: { usageBytes: 4n, limitBytes: 10n } }), { timestamp: '1', swapUsageBytes: { value: '4' }, swapAvailableBytes: { value: '6' } });
  assert.equal(cpuUsage({ timestampNanos: 1n }, undefined), undefined);
});

test('a pod sums its containers\' samples and has no limit of its own', () => {
  const a = sample(10n, 100n);
  a.memory!.limitBytes = 1000n;
  const pod = sumSamples([a, sample(5n, 50n), { timestampNanos: 1n }], 9n);
  assert.equal(pod.timestampNanos, 9n);
  assert.equal(pod.cpu?.usageNanos, 15n);
  assert.equal(pod.memory?.usageBytes, 150n);
  assert.equal(pod.memory?.workingSetBytes, 75n);
  assert.equal(pod.memory?.pageFaults, 4n);
  assert.equal(pod.memory?.limitBytes, undefined);
  assert.equal(pod.processes, 2);
  assert.deepEqual(sumSamples([], 1n), { timestampNanos: 1n });
});

test('descriptors: cAdvisor names, container labels, the interface for network metrics', () => {
  const descriptors = metricDescriptors();
  const byName = new Map(descriptors.map((d) => [d.name, d]));
  assert.deepEqual(byName.get('container_cpu_usage_seconds_total')?.labelKeys, [...METRIC_LABEL_KEYS]);
  assert.deepEqual(byName.get('container_network_receive_bytes_total')?.labelKeys, [...NETWORK_LABEL_KEYS]);
  assert.ok(byName.has('container_memory_working_set_bytes'));
  assert.ok(descriptors.every((d) => d.help));
});

test('container metrics: whole seconds of CPU, gauges and counters typed as the descriptors say', () => {
  const labels = { container: 'c', id: 'id', image: 'img', name: 'n', namespace: 'ns', pod: 'p' };
  const metrics = containerMetrics(labels, { sample: sample(2_700_000_000n, 100n), layer: { bytes: 4096n, inodes: 2n }, startedAtNanos: 1_700_000_000_500_000_000n }, 1n);
  const get = (name: string) => metrics.find((m) => m.name === name);
  assert.deepEqual([get('container_cpu_usage_seconds_total')?.value, get('container_cpu_usage_seconds_total')?.metricType], [{ value: '2' }, 'COUNTER']);
  assert.deepEqual([get('container_memory_working_set_bytes')?.value, get('container_memory_working_set_bytes')?.metricType], [{ value: '50' }, 'GAUGE']);
  assert.deepEqual(get('container_spec_memory_limit_bytes')?.value, { value: '0' }, 'no limit');
  assert.deepEqual(get('container_fs_usage_bytes')?.value, { value: '4096' });
  assert.deepEqual(get('container_start_time_seconds')?.value, { value: '1700000000' });
  assert.deepEqual(get('container_processes')?.labelValues, ['c', 'id', 'img', 'n', 'ns', 'p']);
  assert.equal(containerMetrics(labels, {}, 1n).length, 0, 'nothing known, nothing reported');
});

test('every metric is one a descriptor names, with as many label values as its label keys', () => {
  const keys = new Map(metricDescriptors().map((d) => [d.name, d.labelKeys?.length]));
  const labels = { container: 'c', id: 'id', image: 'img', name: 'n', namespace: 'ns', pod: 'p' };
  const full = sample(1n, 100n, { cpu: { usageNanos: 1n, userNanos: 1n, systemNanos: 1n, throttling: { periods: 1n, throttledPeriods: 1n, throttledNanos: 1n } }, swap: { usageBytes: 1n } });
  Object.assign(full.memory!, { cacheBytes: 1n, mappedFileBytes: 1n, maxUsageBytes: 1n, limitHits: 1n, oomKills: 1n });
  const metrics = containerMetrics(labels, { sample: full, layer: { bytes: 1n, inodes: 1n }, startedAtNanos: 1n, spec: containerSpec({ CpuQuota: 50000 }) }, 1n);
  const names = new Set(metrics.map((m) => m.name));
  for (const name of Object.keys(METRICS)) if (!name.startsWith('container_network_')) assert.ok(names.has(name), `${name} is served`);
  for (const m of metrics) assert.equal(m.labelValues?.length, keys.get(m.name), m.name);
});

test('spec metrics from HostConfig, kernel defaults for what Docker left unset; CFS metrics only under a quota, as cAdvisor', () => {
  assert.deepEqual(containerSpec({}), { cpuPeriodMicros: 100_000n, cpuQuotaMicros: 0n, cpuShares: 1024n, memorySwapLimitBytes: 0n, memoryReservationBytes: 0n });
  assert.deepEqual(containerSpec({ CpuPeriod: 50000, CpuQuota: 25000, CpuShares: 512, MemorySwap: -1, MemoryReservation: 1024 }), {
    cpuPeriodMicros: 50_000n, cpuQuotaMicros: 25_000n, cpuShares: 512n, memorySwapLimitBytes: 0n, memoryReservationBytes: 1024n,
  });
  const labels = { container: 'c', id: 'id', image: 'img', name: 'n', namespace: 'ns', pod: 'p' };
  const throttled = sample(1n, 100n, { cpu: { usageNanos: 1n, throttling: { periods: 10n, throttledPeriods: 4n, throttledNanos: 3_200_000_000n } } });
  const get = (spec: ReturnType<typeof containerSpec>) => {
    const metrics = containerMetrics(labels, { sample: throttled, spec }, 7_000_000_000n);
    return (name: string) => metrics.find((m) => m.name === name);
  };
  const unlimited = get(containerSpec({}));
  assert.equal(unlimited('container_cpu_cfs_periods_total'), undefined);
  assert.equal(unlimited('container_spec_cpu_quota'), undefined);
  assert.deepEqual(unlimited('container_spec_cpu_shares')?.value, { value: '1024' });
  assert.deepEqual(unlimited('container_last_seen')?.value, { value: '7' });
  const limited = get(containerSpec({ CpuQuota: 50000 }));
  assert.deepEqual(limited('container_cpu_cfs_periods_total')?.value, { value: '10' });
  assert.deepEqual(limited('container_cpu_cfs_throttled_periods_total')?.value, { value: '4' });
  assert.deepEqual(limited('container_cpu_cfs_throttled_seconds_total')?.value, { value: '3' });
  assert.equal(limited('container_cpu_cfs_throttled_seconds_total')?.metricType, 'COUNTER');
  assert.deepEqual(limited('container_spec_cpu_quota')?.value, { value: '50000' });
});

test('update flags: those of create that docker update accepts; oom_score_adj becomes a warning', () => {
  const host = describeHost({ capBnd: '1ffffffffff', oomScoreAdj: 0, info: { ServerVersion: '20.10.24' } });
  const warnings: string[] = [];
  const args = updateArgs(
    { cpuPeriod: '100000', cpuQuota: '20000', cpuShares: '512', memoryLimitInBytes: '268435456', oomScoreAdj: '100', cpusetCpus: '0', cpusetMems: '0', hugepageLimits: [], unified: {}, memorySwapLimitInBytes: '0' },
    host,
    warnings,
  );
  assert.deepEqual(args, ['--cpu-period', '100000', '--cpu-quota', '20000', '--cpu-shares', '512', '--memory', '268435456', '--memory-swap', '268435456', '--cpuset-cpus', '0', '--cpuset-mems', '0']);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /oom_score_adj 100 is not applied/);
  assert.deepEqual(updateArgs({ cpuPeriod: '0', cpuQuota: '0', cpuShares: '0', memoryLimitInBytes: '0', oomScoreAdj: '0', cpusetCpus: '', cpusetMems: '', hugepageLimits: [], unified: {}, memorySwapLimitInBytes: '0' }, host, []), []);
});
