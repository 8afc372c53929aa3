import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeHost } from '../../docker/host-grants.js';
import type { CgroupSample } from './cgroup.js';
import { cpuUsage, memoryUsage, sumSamples, swapUsage } from './convert.js';
import { containerMetrics, metricDescriptors, METRIC_LABEL_KEYS, NETWORK_LABEL_KEYS } from './metrics.js';
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
  const metrics = containerMetrics(labels, sample(2_700_000_000n, 100n), { bytes: 4096n, inodes: 2n }, 1_700_000_000_500_000_000n, 1n);
  const get = (name: string) => metrics.find((m) => m.name === name);
  assert.deepEqual([get('container_cpu_usage_seconds_total')?.value, get('container_cpu_usage_seconds_total')?.metricType], [{ value: '2' }, 'COUNTER']);
  assert.deepEqual([get('container_memory_working_set_bytes')?.value, get('container_memory_working_set_bytes')?.metricType], [{ value: '50' }, 'GAUGE']);
  assert.deepEqual(get('container_spec_memory_limit_bytes')?.value, { value: '0' }, 'no limit');
  assert.deepEqual(get('container_fs_usage_bytes')?.value, { value: '4096' });
  assert.deepEqual(get('container_start_time_seconds')?.value, { value: '1700000000' });
  assert.deepEqual(get('container_processes')?.labelValues, ['c', 'id', 'img', 'n', 'ns', 'p']);
  assert.equal(containerMetrics(labels, undefined, undefined, undefined, 1n).length, 0, 'nothing known, nothing reported');
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
