import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ContainerStats__Output } from '../cri/generated/runtime/v1/ContainerStats.js';
import type { PodSandboxStats__Output } from '../cri/generated/runtime/v1/PodSandboxStats.js';
import { UsageError } from './output.js';
import { renderTabwriter } from './tabwriter.js';
import { CONTAINER_STATS_COLUMNS, containerStatsRows, cpuPercent, parseMemory, podStatsRows, statsSize, updateResources } from './stats.js';

const v = (value: string | number) => ({ value: String(value) });

function cstats(id: string, name: string, ts: number, cpu: number, mem: number): ContainerStats__Output {
  return {
    attributes: { id, metadata: { name, attempt: 0 }, labels: {}, annotations: {} },
    cpu: { timestamp: String(ts), usageCoreNanoSeconds: v(cpu), usageNanoCores: null, psi: null },
    memory: { timestamp: String(ts), workingSetBytes: v(mem), availableBytes: null, usageBytes: v(mem), rssBytes: null, pageFaults: null, majorPageFaults: null, psi: null },
    writableLayer: { timestamp: String(ts), fsId: { mountpoint: '/var/lib/docker' }, usedBytes: v(12288), inodesUsed: v(3) },
    swap: { timestamp: String(ts), swapAvailableBytes: null, swapUsageBytes: v(0) },
    io: null,
  };
}

function pstats(id: string, name: string, ts: number, cpu: number, mem: number): PodSandboxStats__Output {
  return {
    attributes: { id, metadata: { name, uid: 'u', namespace: 'n', attempt: 0 }, labels: {}, annotations: {} },
    linux: {
      cpu: { timestamp: String(ts), usageCoreNanoSeconds: v(cpu), usageNanoCores: null, psi: null },
      memory: { timestamp: String(ts), workingSetBytes: v(mem), availableBytes: null, usageBytes: null, rssBytes: null, pageFaults: null, majorPageFaults: null, psi: null },
      network: null,
      process: null,
      containers: [],
      io: null,
    },
    windows: null,
  };
}

describe('stats formatting (crictl\'s units)', () => {
  test('sizes: decimal units, four significant digits', () => {
    assert.equal(statsSize(0), '0B');
    assert.equal(statsSize(999), '999B');
    assert.equal(statsSize(4096), '4.096kB');
    assert.equal(statsSize(221184), '221.2kB');
    assert.equal(statsSize('1077248'), '1.077MB');
    assert.equal(statsSize(67108864n), '67.11MB');
    assert.equal(statsSize(2_000_000_000), '2GB');
  });

  test('CPU %: core-nanoseconds per elapsed nanosecond, two decimals', () => {
    assert.equal(cpuPercent({ timestamp: '0', usage: '0' }, { timestamp: '1000000000', usage: '500000000' }), '50.00');
    assert.equal(cpuPercent({ timestamp: '0', usage: '0' }, { timestamp: '1000000000', usage: '1500000000' }), '150.00', 'more than one core');
    assert.equal(cpuPercent(undefined, { timestamp: '1', usage: '5' }), '0.00');
    assert.equal(cpuPercent({ timestamp: '1', usage: '0' }, { timestamp: '1', usage: '5' }), '0.00', 'no time elapsed');
  });

  test('memory sizes for update: bytes or binary units', () => {
    assert.equal(parseMemory('268435456'), 268435456n);
    assert.equal(parseMemory('256m'), 268435456n);
    assert.equal(parseMemory('256M'), 268435456n);
    assert.equal(parseMemory('1g'), 1073741824n);
    assert.equal(parseMemory('1GiB'), 1073741824n);
    assert.equal(parseMemory('512kb'), 524288n);
    assert.equal(parseMemory('1.5g'), 1610612736n);
    assert.throws(() => parseMemory('lots'), UsageError);
    assert.throws(() => parseMemory('-1m'), UsageError);
  });
});

describe('stats tables', () => {
  const A = 'a'.repeat(64);
  const B = 'b'.repeat(64);
  const C = 'c'.repeat(64);

  test('container rows: sorted by ID, CPU % from the two samples, new and idle containers left out', () => {
    const before = [cstats(B, 'burn', 0, 1_000_000_000, 1000), cstats(A, 'idle', 0, 0, 0)];
    const after = [cstats(B, 'burn', 2_000_000_000, 2_000_000_000, 221184), cstats(A, 'idle', 2_000_000_000, 0, 0), cstats(C, 'new', 2_000_000_000, 5, 5)];
    assert.deepEqual(containerStatsRows(before, after, false), [['bbbbbbbbbbbbb', 'burn', '50.00', '221.2kB', '12.29kB', '3', '0B']]);
    assert.deepEqual(containerStatsRows(before, after, true).map((row) => row[1]), ['idle', 'burn'], '--all keeps idle ones');
    const table = renderTabwriter([CONTAINER_STATS_COLUMNS, ...containerStatsRows(before, after, false)]);
    assert.match(table.split('\n')[0]!, /^CONTAINER\s+NAME\s+CPU %\s+MEM\s+DISK\s+INODES\s+SWAP$/);
  });

  test('pod rows: POD, POD ID, CPU %, MEM', () => {
    const before = [pstats(A, 'web', 0, 0, 1)];
    const after = [pstats(A, 'web', 1_000_000_000, 250_000_000, 1077248), pstats(B, 'new', 1_000_000_000, 1, 1)];
    assert.deepEqual(podStatsRows(before, after), [['web', 'aaaaaaaaaaaaa', '25.00', '1.077MB']]);
  });
});

describe('update', () => {
  test('flags become LinuxContainerResources', () => {
    assert.deepEqual(updateResources({ cpuPeriod: '100000', cpuQuota: '50000', memory: '64m', cpusetCpus: '0' }), {
      cpuPeriod: '100000',
      cpuQuota: '50000',
      memoryLimitInBytes: '67108864',
      cpusetCpus: '0',
    });
    assert.deepEqual(updateResources({ cpuShare: '512' }), { cpuShares: '512' });
  });

  test('nothing to update, or a malformed number, is a usage error', () => {
    assert.throws(() => updateResources({}), /nothing to update/);
    assert.throws(() => updateResources({ cpuQuota: 'half' }), /--cpu-quota "half" must be a whole number/);
  });
});
