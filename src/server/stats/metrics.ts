/**
 * The metrics ListPodSandboxMetrics serves, named, typed and labelled as cAdvisor names them so that
 * the kubelet's /metrics/cadvisor keeps its shape when it takes them from the CRI (feature gate
 * PodAndContainerStatsFromCRI: it turns each descriptor into a Prometheus one and each metric into a
 * sample, dropping a metric whose name has no descriptor or whose label values do not match its keys).
 * The CRI carries whole numbers only: seconds are whole seconds, as containerd and CRI-O send them. Pure.
 */
import type { Metric } from '../../cri/generated/runtime/v1/Metric.js';
import type { MetricDescriptor } from '../../cri/generated/runtime/v1/MetricDescriptor.js';
import type { DockerContainerInspect } from '../../docker/types.js';
import type { CgroupSample } from './cgroup.js';
import { podInterfaces, type InterfaceCounters } from './net-dev.js';
import type { DiskUsage } from './writable-layer.js';

/** Labels of every metric, in this order (label_values follow it). */
export const METRIC_LABEL_KEYS = ['container', 'id', 'image', 'name', 'namespace', 'pod'] as const;
/** Network metrics have the interface as well. */
export const NETWORK_LABEL_KEYS = [...METRIC_LABEL_KEYS, 'interface'] as const;

export type MetricLabels = Record<(typeof METRIC_LABEL_KEYS)[number], string>;

type MetricType = 'COUNTER' | 'GAUGE';

interface MetricSpec {
  help: string;
  type: MetricType;
  network?: boolean;
}

const NANOS_PER_SECOND = 1_000_000_000n;

/** Every metric mascri can serve. */
export const METRICS = {
  container_cpu_usage_seconds_total: { help: 'Cumulative cpu time consumed in seconds.', type: 'COUNTER' },
  container_cpu_user_seconds_total: { help: 'Cumulative user cpu time consumed in seconds.', type: 'COUNTER' },
  container_cpu_system_seconds_total: { help: 'Cumulative system cpu time consumed in seconds.', type: 'COUNTER' },
  container_cpu_cfs_periods_total: { help: 'Number of elapsed enforcement period intervals.', type: 'COUNTER' },
  container_cpu_cfs_throttled_periods_total: { help: 'Number of throttled period intervals.', type: 'COUNTER' },
  container_cpu_cfs_throttled_seconds_total: { help: 'Total time duration the container has been throttled.', type: 'COUNTER' },
  container_memory_usage_bytes: { help: 'Current memory usage in bytes, including all memory regardless of when it was accessed.', type: 'GAUGE' },
  container_memory_working_set_bytes: { help: 'Current working set in bytes.', type: 'GAUGE' },
  container_memory_max_usage_bytes: { help: 'Maximum memory usage recorded in bytes', type: 'GAUGE' },
  container_memory_rss: { help: 'Size of RSS in bytes.', type: 'GAUGE' },
  container_memory_cache: { help: 'Number of bytes of page cache memory.', type: 'GAUGE' },
  container_memory_mapped_file: { help: 'Size of memory mapped files in bytes.', type: 'GAUGE' },
  container_memory_swap: { help: 'Container swap usage in bytes.', type: 'GAUGE' },
  container_memory_failcnt: { help: 'Number of memory usage hits limits', type: 'COUNTER' },
  container_oom_events_total: { help: 'Count of out of memory events observed for the container', type: 'COUNTER' },
  container_spec_cpu_period: { help: 'CPU period of the container.', type: 'GAUGE' },
  container_spec_cpu_quota: { help: 'CPU quota of the container.', type: 'GAUGE' },
  container_spec_cpu_shares: { help: 'CPU share of the container.', type: 'GAUGE' },
  container_spec_memory_limit_bytes: { help: 'Memory limit for the container (0: none).', type: 'GAUGE' },
  container_spec_memory_reservation_limit_bytes: { help: 'Memory reservation limit for the container.', type: 'GAUGE' },
  container_spec_memory_swap_limit_bytes: { help: 'Memory swap limit for the container.', type: 'GAUGE' },
  container_fs_usage_bytes: { help: 'Bytes used by the container\'s writable layer.', type: 'GAUGE' },
  container_fs_inodes_used: { help: 'Inodes used by the container\'s writable layer.', type: 'GAUGE' },
  container_processes: { help: 'Number of processes running inside the container.', type: 'GAUGE' },
  container_start_time_seconds: { help: 'Start time of the container since unix epoch in seconds.', type: 'GAUGE' },
  container_last_seen: { help: 'Last time a container was seen by the exporter', type: 'GAUGE' },
  container_network_receive_bytes_total: { help: 'Cumulative count of bytes received.', type: 'COUNTER', network: true },
  container_network_receive_packets_total: { help: 'Cumulative count of packets received.', type: 'COUNTER', network: true },
  container_network_receive_errors_total: { help: 'Cumulative count of errors encountered while receiving.', type: 'COUNTER', network: true },
  container_network_receive_packets_dropped_total: { help: 'Cumulative count of packets dropped while receiving.', type: 'COUNTER', network: true },
  container_network_transmit_bytes_total: { help: 'Cumulative count of bytes transmitted.', type: 'COUNTER', network: true },
  container_network_transmit_packets_total: { help: 'Cumulative count of packets transmitted.', type: 'COUNTER', network: true },
  container_network_transmit_errors_total: { help: 'Cumulative count of errors encountered while transmitting.', type: 'COUNTER', network: true },
  container_network_transmit_packets_dropped_total: { help: 'Cumulative count of packets dropped while transmitting.', type: 'COUNTER', network: true },
} satisfies Record<string, MetricSpec>;

export type MetricName = keyof typeof METRICS;

/** The descriptors of every metric, for ListMetricDescriptors. */
export function metricDescriptors(): MetricDescriptor[] {
  return Object.entries(METRICS).map(([name, spec]: [string, MetricSpec]) => ({
    name,
    help: spec.help,
    labelKeys: [...(spec.network ? NETWORK_LABEL_KEYS : METRIC_LABEL_KEYS)],
  }));
}

function metric(name: MetricName, timestampNanos: bigint, labelValues: string[], value: bigint | number): Metric {
  const spec: MetricSpec = METRICS[name];
  return { name, timestamp: timestampNanos.toString(), metricType: spec.type, labelValues, value: { value: BigInt(value).toString() } };
}

function labelValues(labels: MetricLabels): string[] {
  return METRIC_LABEL_KEYS.map((key) => labels[key]);
}

/** What a container was started with, as cAdvisor reports it (container_spec_*): kernel defaults for what Docker left unset. */
export interface ContainerSpec {
  cpuPeriodMicros: bigint;
  /** 0: no CFS quota (then no cfs metrics either, as cAdvisor does). */
  cpuQuotaMicros: bigint;
  cpuShares: bigint;
  /** Memory plus swap, as Docker's MemorySwap counts it; 0: no limit. */
  memorySwapLimitBytes: bigint;
  /** 0: no reservation. */
  memoryReservationBytes: bigint;
}

/** The kernel's CFS period and CPU shares when none are set. */
const DEFAULT_CPU_PERIOD_MICROS = 100_000n;
const DEFAULT_CPU_SHARES = 1024n;

/** A container's spec from its `docker inspect` HostConfig (which UpdateContainerResources keeps current). */
export function containerSpec(hostConfig: DockerContainerInspect['HostConfig']): ContainerSpec {
  const positive = (value: unknown) => (typeof value === 'number' && Number.isFinite(value) && value > 0 ? BigInt(Math.trunc(value)) : 0n);
  return {
    cpuPeriodMicros: positive(hostConfig.CpuPeriod) || DEFAULT_CPU_PERIOD_MICROS,
    cpuQuotaMicros: positive(hostConfig.CpuQuota),
    cpuShares: positive(hostConfig.CpuShares) || DEFAULT_CPU_SHARES,
    memorySwapLimitBytes: positive(hostConfig.MemorySwap),
    memoryReservationBytes: positive(hostConfig.MemoryReservation),
  };
}

/** What is known of one container for its metrics; any part may be missing (not running, not on overlay2, ...). */
export interface ContainerFacts {
  sample?: CgroupSample;
  layer?: DiskUsage;
  startedAtNanos?: bigint;
  spec?: ContainerSpec;
}

/** A container's metrics from its cgroup sample, writable layer, start time and spec (whatever of them is known). */
export function containerMetrics(labels: MetricLabels, facts: ContainerFacts, timestampNanos: bigint): Metric[] {
  const { sample, layer, startedAtNanos, spec } = facts;
  const values = labelValues(labels);
  const out: Metric[] = [];
  const at = sample?.timestampNanos ?? timestampNanos;
  const push = (name: MetricName, value: bigint | number | undefined, when = at) => {
    if (value !== undefined) out.push(metric(name, when, values, value));
  };
  push('container_cpu_usage_seconds_total', seconds(sample?.cpu?.usageNanos));
  push('container_cpu_user_seconds_total', seconds(sample?.cpu?.userNanos));
  push('container_cpu_system_seconds_total', seconds(sample?.cpu?.systemNanos));
  const throttling = sample?.cpu?.throttling;
  if (throttling && spec && spec.cpuQuotaMicros > 0n) {
    push('container_cpu_cfs_periods_total', throttling.periods);
    push('container_cpu_cfs_throttled_periods_total', throttling.throttledPeriods);
    push('container_cpu_cfs_throttled_seconds_total', seconds(throttling.throttledNanos));
  }
  const memory = sample?.memory;
  push('container_memory_usage_bytes', memory?.usageBytes);
  push('container_memory_working_set_bytes', memory?.workingSetBytes);
  push('container_memory_max_usage_bytes', memory?.maxUsageBytes);
  push('container_memory_rss', memory?.rssBytes);
  push('container_memory_cache', memory?.cacheBytes);
  push('container_memory_mapped_file', memory?.mappedFileBytes);
  push('container_memory_swap', sample?.swap?.usageBytes);
  push('container_memory_failcnt', memory?.limitHits);
  push('container_oom_events_total', memory?.oomKills);
  if (memory) push('container_spec_memory_limit_bytes', memory.limitBytes ?? 0n);
  if (spec) {
    push('container_spec_cpu_period', spec.cpuPeriodMicros, timestampNanos);
    if (spec.cpuQuotaMicros > 0n) push('container_spec_cpu_quota', spec.cpuQuotaMicros, timestampNanos);
    push('container_spec_cpu_shares', spec.cpuShares, timestampNanos);
    push('container_spec_memory_reservation_limit_bytes', spec.memoryReservationBytes, timestampNanos);
    push('container_spec_memory_swap_limit_bytes', spec.memorySwapLimitBytes, timestampNanos);
  }
  push('container_processes', sample?.processes);
  push('container_fs_usage_bytes', layer?.bytes);
  push('container_fs_inodes_used', layer?.inodes);
  if (startedAtNanos !== undefined && startedAtNanos > 0n) push('container_start_time_seconds', seconds(startedAtNanos));
  if (out.length > 0) push('container_last_seen', seconds(timestampNanos), timestampNanos);
  return out;
}

/** A pod's network metrics, one series per interface (loopback left out, as cAdvisor does). */
export function networkMetrics(labels: MetricLabels, timestampNanos: bigint, interfaces: InterfaceCounters[]): Metric[] {
  const out: Metric[] = [];
  for (const c of podInterfaces(interfaces)) {
    const values = [...labelValues(labels), c.name];
    out.push(
      metric('container_network_receive_bytes_total', timestampNanos, values, c.rxBytes),
      metric('container_network_receive_packets_total', timestampNanos, values, c.rxPackets),
      metric('container_network_receive_errors_total', timestampNanos, values, c.rxErrors),
      metric('container_network_receive_packets_dropped_total', timestampNanos, values, c.rxDropped),
      metric('container_network_transmit_bytes_total', timestampNanos, values, c.txBytes),
      metric('container_network_transmit_packets_total', timestampNanos, values, c.txPackets),
      metric('container_network_transmit_errors_total', timestampNanos, values, c.txErrors),
      metric('container_network_transmit_packets_dropped_total', timestampNanos, values, c.txDropped),
    );
  }
  return out;
}

function seconds(nanos: bigint | undefined): bigint | undefined {
  return nanos === undefined ? undefined : nanos / NANOS_PER_SECOND;
}
