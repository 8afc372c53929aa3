/** Host figures -> CRI stats messages. Pure. */
import type { CpuUsage } from '../../cri/generated/runtime/v1/CpuUsage.js';
import type { IoUsage } from '../../cri/generated/runtime/v1/IoUsage.js';
import type { MemoryUsage } from '../../cri/generated/runtime/v1/MemoryUsage.js';
import type { NetworkInterfaceUsage } from '../../cri/generated/runtime/v1/NetworkInterfaceUsage.js';
import type { NetworkUsage } from '../../cri/generated/runtime/v1/NetworkUsage.js';
import type { PsiStats } from '../../cri/generated/runtime/v1/PsiStats.js';
import type { SwapUsage } from '../../cri/generated/runtime/v1/SwapUsage.js';
import type { UInt64Value } from '../../cri/generated/runtime/v1/UInt64Value.js';
import type { CgroupSample, Pressure, PressureLine } from './cgroup.js';
import { defaultInterface, podInterfaces, type InterfaceCounters } from './net-dev.js';

/** A UInt64Value wrapper, or undefined (left out) when there is no figure. */
export function uint64(value: bigint | number | undefined): UInt64Value | undefined {
  if (value === undefined) return undefined;
  const big = BigInt(value);
  return { value: (big < 0n ? 0n : big).toString() };
}

/** The CRI CPU usage of a sample; `nanoCores` comes from the previous sample (see CpuRateTracker). */
export function cpuUsage(sample: CgroupSample, nanoCores: bigint | undefined): CpuUsage | undefined {
  if (!sample.cpu) return undefined;
  return {
    timestamp: sample.timestampNanos.toString(),
    usageCoreNanoSeconds: uint64(sample.cpu.usageNanos),
    usageNanoCores: uint64(nanoCores),
    psi: psiStats(sample.cpu.psi),
  };
}

/** The CRI memory usage of a sample: available bytes only when a limit is set. */
export function memoryUsage(sample: CgroupSample): MemoryUsage | undefined {
  const memory = sample.memory;
  if (!memory) return undefined;
  const available = memory.limitBytes === undefined ? undefined : memory.limitBytes > memory.workingSetBytes ? memory.limitBytes - memory.workingSetBytes : 0n;
  return {
    timestamp: sample.timestampNanos.toString(),
    workingSetBytes: uint64(memory.workingSetBytes),
    availableBytes: uint64(available),
    usageBytes: uint64(memory.usageBytes),
    rssBytes: uint64(memory.rssBytes),
    pageFaults: uint64(memory.pageFaults),
    majorPageFaults: uint64(memory.majorPageFaults),
    psi: psiStats(memory.psi),
  };
}

/** The CRI swap usage of a sample, when the host accounts swap. */
export function swapUsage(sample: CgroupSample): SwapUsage | undefined {
  const swap = sample.swap;
  if (!swap) return undefined;
  const available = swap.limitBytes === undefined ? undefined : swap.limitBytes > swap.usageBytes ? swap.limitBytes - swap.usageBytes : 0n;
  return { timestamp: sample.timestampNanos.toString(), swapUsageBytes: uint64(swap.usageBytes), swapAvailableBytes: uint64(available) };
}

/** The CRI I/O usage (pressure only; cgroup v2 with PSI). */
export function ioUsage(sample: CgroupSample): IoUsage | undefined {
  const psi = psiStats(sample.io?.psi);
  return psi ? { timestamp: sample.timestampNanos.toString(), psi } : undefined;
}

function psiStats(pressure: Pressure | undefined): PsiStats | undefined {
  if (!pressure) return undefined;
  const data = (line: PressureLine | undefined) =>
    line ? { Total: (line.totalMicros * 1000n).toString(), Avg10: line.avg10, Avg60: line.avg60, Avg300: line.avg300 } : undefined;
  return { Full: data(pressure.full), Some: data(pressure.some) };
}

/** The CRI network usage of a pod: every interface but loopback, eth0 as the default. */
export function networkUsage(timestampNanos: bigint, counters: InterfaceCounters[]): NetworkUsage {
  const interfaces = podInterfaces(counters).map(interfaceUsage);
  const main = defaultInterface(podInterfaces(counters));
  return { timestamp: timestampNanos.toString(), defaultInterface: main ? interfaceUsage(main) : undefined, interfaces };
}

function interfaceUsage(c: InterfaceCounters): NetworkInterfaceUsage {
  return { name: c.name, rxBytes: uint64(c.rxBytes), rxErrors: uint64(c.rxErrors), txBytes: uint64(c.txBytes), txErrors: uint64(c.txErrors) };
}

/**
 * A pod's figures as the sum of its containers' cgroups (the pause container included): Docker
 * gives every container a cgroup of its own and makes no pod cgroup. The pod has no limit of its own.
 */
export function sumSamples(samples: CgroupSample[], timestampNanos: bigint): CgroupSample {
  const sum: CgroupSample = { timestampNanos };
  const add = (a: bigint | undefined, b: bigint | undefined) => (a === undefined && b === undefined ? undefined : (a ?? 0n) + (b ?? 0n));
  for (const s of samples) {
    if (s.cpu) {
      sum.cpu = {
        usageNanos: (sum.cpu?.usageNanos ?? 0n) + s.cpu.usageNanos,
        userNanos: add(sum.cpu?.userNanos, s.cpu.userNanos),
        systemNanos: add(sum.cpu?.systemNanos, s.cpu.systemNanos),
      };
    }
    if (s.memory) {
      sum.memory = {
        usageBytes: (sum.memory?.usageBytes ?? 0n) + s.memory.usageBytes,
        workingSetBytes: (sum.memory?.workingSetBytes ?? 0n) + s.memory.workingSetBytes,
        rssBytes: add(sum.memory?.rssBytes, s.memory.rssBytes),
        pageFaults: add(sum.memory?.pageFaults, s.memory.pageFaults),
        majorPageFaults: add(sum.memory?.majorPageFaults, s.memory.majorPageFaults),
      };
    }
    if (s.swap) sum.swap = { usageBytes: (sum.swap?.usageBytes ?? 0n) + s.swap.usageBytes };
    if (s.processes !== undefined) sum.processes = (sum.processes ?? 0) + s.processes;
  }
  return sum;
}
