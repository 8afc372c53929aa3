import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { locateCgroup, parseMountInfo, parsePressure, parseProcCgroup, readCgroupSample, sampleFromV1, sampleFromV2 } from './cgroup.js';

const ID = '26ae87a90e2e51217664eb2ec8b4f0bab7650d323e014674c9d65e3f247d4519';

/** This host: cgroup v1 with separate cpu and cpuacct hierarchies, and an empty v2 mount beside them. */
const HYBRID_MOUNTINFO = `31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
`;

const HYBRID_PROC_CGROUP = `9:name=systemd:/docker/${ID}
8:pids:/docker/${ID}
4:memory:/docker/${ID}
3:cpuset:/docker/${ID}
2:cpuacct:/docker/${ID}
1:cpu:/docker/${ID}
0::/docker/${ID}
`;

/** A classic distribution: cpu and cpuacct co-mounted. */
const COMOUNTED_MOUNTINFO = `25 24 0:22 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:8 - cgroup cgroup rw,cpu,cpuacct
26 24 0:23 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:9 - cgroup cgroup rw,memory
`;

const V2_MOUNTINFO = `30 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot\n`;

const V1_MEMORY_STAT = `cache 8192
rss 61440
pgfault 1024
pgmajfault 1
inactive_file 4096
total_cache 8192
total_rss 61440
total_swap 0
total_pgfault 1024
total_pgmajfault 1
total_inactive_file 4096
`;

const V2_MEMORY_STAT = `anon 110592
file 8192
kernel_stack 16384
inactive_anon 106496
active_anon 4096
inactive_file 8192
active_file 0
pgfault 1339
pgmajfault 2
`;

const V2_CPU_STAT = `usage_usec 2500123
user_usec 2000000
system_usec 500123
nr_periods 0
nr_throttled 0
throttled_usec 0
`;

describe('cgroup mounts and /proc/<pid>/cgroup', () => {
  test('a hybrid host: each v1 controller has its own hierarchy, and v1 wins over the empty v2 line', () => {
    const mounts = parseMountInfo(HYBRID_MOUNTINFO);
    assert.equal(mounts.v1.get('cpuacct')?.mountPoint, '/sys/fs/cgroup/cpuacct');
    assert.equal(mounts.v1.get('memory')?.mountPoint, '/sys/fs/cgroup/memory');
    assert.equal(mounts.v1.has('name=systemd'), false);
    assert.equal(mounts.v2?.mountPoint, '/sys/fs/cgroup/unified');
    const proc = parseProcCgroup(HYBRID_PROC_CGROUP);
    assert.equal(proc.v1.get('memory'), `/docker/${ID}`);
    assert.equal(proc.v2, `/docker/${ID}`);
    assert.deepEqual(locateCgroup(proc, mounts), {
      version: 1,
      cpu: `/sys/fs/cgroup/cpu/docker/${ID}`,
      cpuacct: `/sys/fs/cgroup/cpuacct/docker/${ID}`,
      memory: `/sys/fs/cgroup/memory/docker/${ID}`,
      pids: `/sys/fs/cgroup/pids/docker/${ID}`,
    });
  });

  test('co-mounted cpu,cpuacct: one line names both controllers', () => {
    const mounts = parseMountInfo(COMOUNTED_MOUNTINFO);
    assert.equal(mounts.v1.get('cpuacct')?.mountPoint, '/sys/fs/cgroup/cpu,cpuacct');
    const proc = parseProcCgroup(`4:memory:/docker/${ID}\n3:cpu,cpuacct:/docker/${ID}\n`);
    assert.deepEqual(locateCgroup(proc, mounts), {
      version: 1,
      cpu: `/sys/fs/cgroup/cpu,cpuacct/docker/${ID}`,
      cpuacct: `/sys/fs/cgroup/cpu,cpuacct/docker/${ID}`,
      memory: `/sys/fs/cgroup/memory/docker/${ID}`,
    });
  });

  test('cgroup v2 only: the 0:: line under the unified mount', () => {
    const location = locateCgroup(parseProcCgroup(`0::/system.slice/docker-${ID}.scope\n`), parseMountInfo(V2_MOUNTINFO));
    assert.deepEqual(location, { version: 2, dir: `/sys/fs/cgroup/system.slice/docker-${ID}.scope` });
  });

  test('a mount whose root is not / (cgroup namespace) is joined relative to its root', () => {
    const mounts = parseMountInfo(`30 23 0:26 /docker /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n`);
    assert.deepEqual(locateCgroup(parseProcCgroup(`0::/docker/${ID}\n`), mounts), { version: 2, dir: `/sys/fs/cgroup/${ID}` });
  });

  test('no cgroup at all (process gone, no mounts) is undefined', () => {
    assert.equal(locateCgroup(parseProcCgroup(''), parseMountInfo(HYBRID_MOUNTINFO)), undefined);
    assert.equal(locateCgroup(parseProcCgroup(HYBRID_PROC_CGROUP), parseMountInfo('')), undefined);
  });
});

describe('cgroup samples', () => {
  test('v1: cumulative CPU, working set = usage - total_inactive_file, swap from memsw, processes', () => {
    const sample = sampleFromV1(
      {
        'cpuacct.usage': '1055051935\n',
        'cpuacct.stat': 'user 90\nsystem 12\n',
        'memory.usage_in_bytes': '69632\n',
        'memory.stat': V1_MEMORY_STAT,
        'memory.limit_in_bytes': '9223372036854771712\n',
        'memory.memsw.usage_in_bytes': '73728\n',
        'memory.memsw.limit_in_bytes': '9223372036854771712\n',
        'cgroup.procs': '4242\n4243\n',
      },
      77n,
    );
    assert.deepEqual(sample.cpu, { usageNanos: 1055051935n, userNanos: 900_000_000n, systemNanos: 120_000_000n });
    assert.deepEqual(sample.memory, {
      usageBytes: 69632n,
      workingSetBytes: 65536n,
      rssBytes: 61440n,
      pageFaults: 1024n,
      majorPageFaults: 1n,
      cacheBytes: 8192n,
      mappedFileBytes: undefined,
      maxUsageBytes: undefined,
      limitHits: undefined,
      oomKills: undefined,
      limitBytes: undefined,
    });
    assert.deepEqual(sample.swap, { usageBytes: 4096n, limitBytes: undefined });
    assert.equal(sample.processes, 2);
    assert.equal(sample.timestampNanos, 77n);
  });

  test('v1 with limits: the memory limit, and the swap limit as memsw minus memory', () => {
    const sample = sampleFromV1(
      {
        'memory.usage_in_bytes': '1000',
        'memory.stat': 'total_inactive_file 2000\n',
        'memory.limit_in_bytes': '67108864',
        'memory.memsw.usage_in_bytes': '1000',
        'memory.memsw.limit_in_bytes': '134217728',
      },
      1n,
    );
    assert.equal(sample.memory?.limitBytes, 67108864n);
    assert.equal(sample.memory?.workingSetBytes, 0n, 'never below zero');
    assert.deepEqual(sample.swap, { usageBytes: 0n, limitBytes: 67108864n });
    assert.equal(sample.cpu, undefined, 'no cpuacct file, no CPU figures');
  });

  test('v1 without swap accounting: swap from memory.stat, or none', () => {
    assert.deepEqual(sampleFromV1({ 'memory.usage_in_bytes': '10', 'memory.stat': 'total_swap 5\n' }, 1n).swap, { usageBytes: 5n, limitBytes: undefined });
    assert.equal(sampleFromV1({ 'memory.usage_in_bytes': '10', 'memory.stat': '' }, 1n).swap, undefined);
  });

  test('v2: usage_usec in nanoseconds, working set = memory.current - inactive_file, "max" is no limit', () => {
    const sample = sampleFromV2(
      {
        'cpu.stat': V2_CPU_STAT,
        'cpu.pressure': 'some avg10=1.50 avg60=0.25 avg300=0.00 total=1234\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=10\n',
        'memory.current': '139264\n',
        'memory.stat': V2_MEMORY_STAT,
        'memory.max': 'max\n',
        'memory.swap.current': '0\n',
        'memory.swap.max': 'max\n',
        'cgroup.procs': '1\n',
      },
      5n,
    );
    assert.equal(sample.cpu?.usageNanos, 2_500_123_000n);
    assert.equal(sample.cpu?.userNanos, 2_000_000_000n);
    assert.deepEqual(sample.cpu?.psi?.some, { avg10: 1.5, avg60: 0.25, avg300: 0, totalMicros: 1234n });
    assert.deepEqual(sample.memory && { ...sample.memory, psi: undefined }, {
      usageBytes: 139264n,
      workingSetBytes: 131072n,
      rssBytes: 110592n,
      pageFaults: 1339n,
      majorPageFaults: 2n,
      cacheBytes: 8192n,
      mappedFileBytes: undefined,
      maxUsageBytes: undefined,
      limitHits: undefined,
      oomKills: undefined,
      limitBytes: undefined,
      psi: undefined,
    });
    assert.deepEqual(sample.cpu?.throttling, { periods: 0n, throttledPeriods: 0n, throttledNanos: 0n });
    assert.deepEqual(sample.swap, { usageBytes: 0n, limitBytes: undefined });
    assert.equal(sample.processes, 1);
  });

  test('v1 throttling, peak usage, limit hits and OOM kills: cpu.stat (throttled_time in ns), max_usage_in_bytes, failcnt, oom_control', () => {
    const sample = sampleFromV1(
      {
        'cpu.stat': 'nr_periods 120\nnr_throttled 30\nthrottled_time 4500000000\n',
        'cpuacct.usage': '7',
        'memory.usage_in_bytes': '1000',
        'memory.max_usage_in_bytes': '5000\n',
        'memory.failcnt': '3\n',
        'memory.oom_control': 'oom_kill_disable 0\nunder_oom 0\noom_kill 2\n',
        'memory.stat': 'total_cache 300\ntotal_mapped_file 100\n',
      },
      1n,
    );
    assert.deepEqual(sample.cpu?.throttling, { periods: 120n, throttledPeriods: 30n, throttledNanos: 4_500_000_000n });
    const { cacheBytes, mappedFileBytes, maxUsageBytes, limitHits, oomKills } = sample.memory!;
    assert.deepEqual({ cacheBytes, mappedFileBytes, maxUsageBytes, limitHits, oomKills }, { cacheBytes: 300n, mappedFileBytes: 100n, maxUsageBytes: 5000n, limitHits: 3n, oomKills: 2n });
    assert.equal(sampleFromV1({ 'cpuacct.usage': '7' }, 1n).cpu?.throttling, undefined, 'no cpu controller file, no throttling figures');
  });

  test('v2 throttling (throttled_usec), memory.peak, and the max and oom_kill events', () => {
    const sample = sampleFromV2(
      {
        'cpu.stat': 'usage_usec 10\nnr_periods 8\nnr_throttled 2\nthrottled_usec 1500000\n',
        'memory.current': '100',
        'memory.peak': '900\n',
        'memory.events': 'low 0\nhigh 0\nmax 4\noom 1\noom_kill 1\noom_group_kill 0\n',
        'memory.stat': 'file 40\nfile_mapped 10\n',
      },
      1n,
    );
    assert.deepEqual(sample.cpu?.throttling, { periods: 8n, throttledPeriods: 2n, throttledNanos: 1_500_000_000n });
    const { cacheBytes, mappedFileBytes, maxUsageBytes, limitHits, oomKills } = sample.memory!;
    assert.deepEqual({ cacheBytes, mappedFileBytes, maxUsageBytes, limitHits, oomKills }, { cacheBytes: 40n, mappedFileBytes: 10n, maxUsageBytes: 900n, limitHits: 4n, oomKills: 1n });
  });

  test('v2 with a memory limit', () => {
    assert.equal(sampleFromV2({ 'memory.current': '10', 'memory.max': '268435456\n' }, 1n).memory?.limitBytes, 268435456n);
  });

  test('pressure files: both lines, or nothing', () => {
    assert.equal(parsePressure(undefined), undefined);
    assert.equal(parsePressure('garbage'), undefined);
    assert.equal(parsePressure('some avg10=0.00 avg60=0.00 avg300=0.00 total=7')?.some?.totalMicros, 7n);
  });

  test('readCgroupSample reads each v1 file from its controller directory', async () => {
    const files: Record<string, string> = {
      '/cg/cpu/x/cpu.stat': 'nr_periods 1\nnr_throttled 1\nthrottled_time 5\n',
      '/cg/cpuacct/x/cpuacct.usage': '5',
      '/cg/memory/x/memory.usage_in_bytes': '100',
      '/cg/memory/x/memory.stat': 'total_inactive_file 40\n',
      '/cg/pids/x/cgroup.procs': '1\n2\n3\n',
    };
    const asked: string[] = [];
    const sample = await readCgroupSample(
      { version: 1, cpu: '/cg/cpu/x', cpuacct: '/cg/cpuacct/x', memory: '/cg/memory/x', pids: '/cg/pids/x' },
      async (path) => (asked.push(path), files[path]),
      () => 9n,
    );
    assert.equal(sample.cpu?.usageNanos, 5n);
    assert.equal(sample.cpu?.throttling?.throttledNanos, 5n, 'cpu.stat from the cpu controller');
    assert.equal(sample.memory?.workingSetBytes, 60n);
    assert.equal(sample.processes, 3);
    assert.ok(asked.every((path) => path.startsWith('/cg/')));
  });

  test('readCgroupSample reads v2 files from one directory', async () => {
    const sample = await readCgroupSample({ version: 2, dir: '/cg/x' }, async (path) => ({ '/cg/x/cpu.stat': 'usage_usec 3\n', '/cg/x/memory.current': '50' })[path], () => 1n);
    assert.equal(sample.cpu?.usageNanos, 3000n);
    assert.equal(sample.memory?.usageBytes, 50n);
    assert.equal(sample.processes, undefined);
  });
});
