/**
 * The metrics ListPodSandboxMetrics serves, named and labelled as cAdvisor names them so that the
 * kubelet's /metrics/cadvisor keeps its shape. The CRI carries whole numbers only: seconds are
 * whole seconds. Pure.
 */
import type { Metric } from '../../cri/generated/runtime/v1/Metric.js';
import type { MetricDescriptor } from '../../cri/generated/runtime/v1/MetricDescriptor.js';
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
  container_memory_usage_bytes: { help: 'Current memory usage in bytes, including all memory regardless of when it was accessed.', type: 'GAUGE' },
  container_memory_working_set_bytes: { help: 'Current working set in bytes.', type: 'GAUGE' },
  container_memory_rss: { help: 'Size of RSS in bytes.', type: 'GAUGE' },
  container_memory_swap: { help: 'Container swap usage in bytes.', type: 'GAUGE' },
  container_spec_memory_limit_bytes: { help: 'Memory limit for the container (0: none).', type: 'GAUGE' },
  container_fs_usage_bytes: { help: 'Bytes used by the container\'s writable layer.', type: 'GAUGE' },
  container_fs_inodes_used: { help: 'Inodes used by the container\'s writable layer.', type: 'GAUGE' },
  container_processes: { help: 'Number of processes running inside the container.', type: 'GAUGE' },
  container_start_time_seconds: { help: 'Start time of the container since unix epoch in seconds.', type: 'GAUGE' },
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

/** A container's metrics from its cgroup sample, writable layer and start time (whatever of them is known). */
export function containerMetrics(labels: MetricLabels, sample: CgroupSample | undefined, layer: DiskUsage | undefined, startedAtNanos: bigint | undefined, timestampNanos: bigint): Metric[] {
  const values = labelValues(labels);
  const out: Metric[] = [];
  const at = sample?.timestampNanos ?? timestampNanos;
  const push = (name: MetricName, value: bigint | number | undefined) => {
    if (value !== undefined) out.push(metric(name, at, values, value));
  };
  push('container_cpu_usage_seconds_total', seconds(sample?.cpu?.usageNanos));
  push('container_cpu_user_seconds_total', seconds(sample?.cpu?.userNanos));
  push('container_cpu_system_seconds_total', seconds(sample?.cpu?.systemNanos));
  push('container_memory_usage_bytes', sample?.memory?.usageBytes);
  push('container_memory_working_set_bytes', sample?.memory?.workingSetBytes);
  push('container_memory_rss', sample?.memory?.rssBytes);
  push('container_memory_swap', sample?.swap?.usageBytes);
  if (sample?.memory) push('container_spec_memory_limit_bytes', sample.memory.limitBytes ?? 0n);
  push('container_processes', sample?.processes);
  push('container_fs_usage_bytes', layer?.bytes);
  push('container_fs_inodes_used', layer?.inodes);
  if (startedAtNanos !== undefined && startedAtNanos > 0n) push('container_start_time_seconds', seconds(startedAtNanos));
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
