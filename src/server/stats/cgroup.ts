/**
 * Where a process's cgroup lives (v1 or v2) and what its files say about CPU, memory, swap and
 * processes. Parsing is pure; reading files is done by readCgroupSample with a given file reader.
 */

/** A cgroup filesystem mount: where it is mounted and which cgroup path is its root. */
export interface CgroupMount {
  mountPoint: string;
  root: string;
}

/** The cgroup mounts of this host: v1 hierarchies by controller, and the v2 (unified) one. */
export interface CgroupMounts {
  v1: Map<string, CgroupMount>;
  v2?: CgroupMount;
}

/** What /proc/<pid>/cgroup says: the v1 path of each controller, and the v2 path. */
export interface ProcCgroup {
  v1: Map<string, string>;
  v2?: string;
}

/** The directories of a container's cgroup. */
export type CgroupLocation =
  | { version: 1; cpu?: string; cpuacct?: string; memory?: string; pids?: string }
  | { version: 2; dir: string };

/** The controllers whose v1 hierarchies mascri reads (cpu for its CFS throttling counters). */
const V1_CONTROLLERS = ['cpu', 'cpuacct', 'memory', 'pids'] as const;

/** Values at or above this are the kernel's "no limit" in cgroup v1 (LONG_MAX rounded to a page). */
const V1_UNLIMITED = 1n << 62n;

/** Parses /proc/self/mountinfo into the cgroup mounts. */
export function parseMountInfo(text: string): CgroupMounts {
  const mounts: CgroupMounts = { v1: new Map() };
  for (const line of text.split('\n')) {
    const [left, right] = line.split(' - ');
    if (!left || !right) continue;
    const fields = left.split(' ');
    const [fsType, , superOptions = ''] = right.split(' ');
    const root = unescapeMount(fields[3] ?? '/');
    const mountPoint = unescapeMount(fields[4] ?? '');
    if (fsType === 'cgroup2') {
      mounts.v2 ??= { mountPoint, root };
    } else if (fsType === 'cgroup') {
      for (const option of superOptions.split(',')) {
        if (option === 'rw' || option === 'ro' || option.includes('=')) continue;
        if (!mounts.v1.has(option)) mounts.v1.set(option, { mountPoint, root });
      }
    }
  }
  return mounts;
}

/** Parses /proc/<pid>/cgroup: "4:memory:/docker/<id>", "3:cpu,cpuacct:/x", "0::/x". */
export function parseProcCgroup(text: string): ProcCgroup {
  const parsed: ProcCgroup = { v1: new Map() };
  for (const line of text.split('\n')) {
    const first = line.indexOf(':');
    const second = line.indexOf(':', first + 1);
    if (first < 0 || second < 0) continue;
    const id = line.slice(0, first);
    const controllers = line.slice(first + 1, second);
    const path = line.slice(second + 1);
    if (id === '0' && controllers === '') parsed.v2 = path;
    else for (const controller of controllers.split(',')) if (controller) parsed.v1.set(controller, path);
  }
  return parsed;
}

/**
 * The cgroup directories of a process: cgroup v1 when the process has v1 memory or cpuacct
 * controllers (a "hybrid" host also shows an empty v2 line), else the v2 directory.
 */
export function locateCgroup(proc: ProcCgroup, mounts: CgroupMounts): CgroupLocation | undefined {
  const hasV1 = (['cpuacct', 'memory'] as const).some((c) => proc.v1.has(c) && mounts.v1.has(c));
  if (hasV1) {
    const location: { version: 1; cpu?: string; cpuacct?: string; memory?: string; pids?: string } = { version: 1 };
    for (const controller of V1_CONTROLLERS) {
      const path = proc.v1.get(controller);
      const mount = mounts.v1.get(controller);
      if (path !== undefined && mount) location[controller] = joinCgroup(mount, path);
    }
    return location;
  }
  if (proc.v2 !== undefined && mounts.v2) return { version: 2, dir: joinCgroup(mounts.v2, proc.v2) };
  return undefined;
}

/** A mount point joined with a cgroup path seen from a (possibly namespaced) root. */
function joinCgroup(mount: CgroupMount, path: string): string {
  let relative = path;
  if (mount.root !== '/' && (relative === mount.root || relative.startsWith(mount.root + '/'))) relative = relative.slice(mount.root.length);
  const base = mount.mountPoint.replace(/\/+$/, '');
  return relative === '/' || relative === '' ? base : `${base}/${relative.replace(/^\/+/, '')}`;
}

/** mountinfo escapes spaces and a few other characters as octal ("\040"). */
function unescapeMount(text: string): string {
  return text.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

/** "key value" lines (memory.stat, cpu.stat, cpuacct.stat) into a map of bigints. */
export function parseFlatKeyed(text: string | undefined): Map<string, bigint> {
  const out = new Map<string, bigint>();
  for (const line of (text ?? '').split('\n')) {
    const [key, value] = line.trim().split(/\s+/);
    if (key && value !== undefined && /^\d+$/.test(value)) out.set(key, BigInt(value));
  }
  return out;
}

/** One number from a single-value cgroup file; "max" (v2) and empty or missing files are undefined. */
export function parseSingle(text: string | undefined): bigint | undefined {
  const value = text?.trim();
  return value && /^\d+$/.test(value) ? BigInt(value) : undefined;
}

/** The number of lines of a cgroup.procs file. */
export function countLines(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  return text.split('\n').filter((line) => line.trim() !== '').length;
}

/** Pressure stall information of one resource (cgroup v2 cpu.pressure, memory.pressure, io.pressure). */
export interface Pressure {
  some?: PressureLine;
  full?: PressureLine;
}

export interface PressureLine {
  avg10: number;
  avg60: number;
  avg300: number;
  /** Cumulative stall time, microseconds as the kernel counts them. */
  totalMicros: bigint;
}

/** Parses a PSI file: "some avg10=0.00 avg60=0.00 avg300=0.00 total=0". */
export function parsePressure(text: string | undefined): Pressure | undefined {
  if (!text) return undefined;
  const out: Pressure = {};
  for (const line of text.split('\n')) {
    const [kind, ...pairs] = line.trim().split(/\s+/);
    if (kind !== 'some' && kind !== 'full') continue;
    const values = new Map(pairs.map((pair) => pair.split('=') as [string, string]));
    out[kind] = {
      avg10: Number(values.get('avg10') ?? 0),
      avg60: Number(values.get('avg60') ?? 0),
      avg300: Number(values.get('avg300') ?? 0),
      totalMicros: /^\d+$/.test(values.get('total') ?? '') ? BigInt(values.get('total')!) : 0n,
    };
  }
  return out.some || out.full ? out : undefined;
}

/** What one cgroup's files say at one moment; fields are absent when the host does not account them. */
export interface CgroupSample {
  /** Unix nanoseconds at which the files were read. */
  timestampNanos: bigint;
  cpu?: {
    usageNanos: bigint;
    userNanos?: bigint;
    systemNanos?: bigint;
    /** CFS bandwidth control: enforcement periods elapsed, those throttled, and the time throttled. */
    throttling?: { periods: bigint; throttledPeriods: bigint; throttledNanos: bigint };
    psi?: Pressure;
  };
  memory?: {
    usageBytes: bigint;
    /** Usage minus inactive file pages, as the kubelet and cAdvisor count it. */
    workingSetBytes: bigint;
    rssBytes?: bigint;
    pageFaults?: bigint;
    majorPageFaults?: bigint;
    /** Page cache, and the part of it that is mapped files. */
    cacheBytes?: bigint;
    mappedFileBytes?: bigint;
    /** The highest usage recorded (v1 max_usage_in_bytes, v2 memory.peak where the kernel has it). */
    maxUsageBytes?: bigint;
    /** How often usage hit the limit (v1 failcnt, v2 the "max" events). */
    limitHits?: bigint;
    /** Processes the kernel's OOM killer killed in this cgroup (where the kernel counts them). */
    oomKills?: bigint;
    /** The limit, when one is set. */
    limitBytes?: bigint;
    psi?: Pressure;
  };
  swap?: {
    usageBytes: bigint;
    /** The swap limit, when one is set. */
    limitBytes?: bigint;
  };
  io?: { psi?: Pressure };
  /** Processes in the cgroup (lines of cgroup.procs). */
  processes?: number;
}

/** The file contents a cgroup v1 sample is made from (undefined: not there). */
export interface CgroupV1Files {
  'cpu.stat'?: string;
  'cpuacct.usage'?: string;
  'cpuacct.stat'?: string;
  'memory.usage_in_bytes'?: string;
  'memory.max_usage_in_bytes'?: string;
  'memory.failcnt'?: string;
  'memory.oom_control'?: string;
  'memory.stat'?: string;
  'memory.limit_in_bytes'?: string;
  'memory.memsw.usage_in_bytes'?: string;
  'memory.memsw.limit_in_bytes'?: string;
  'cgroup.procs'?: string;
}

/** The file contents a cgroup v2 sample is made from. */
export interface CgroupV2Files {
  'cpu.stat'?: string;
  'cpu.pressure'?: string;
  'memory.current'?: string;
  'memory.peak'?: string;
  'memory.events'?: string;
  'memory.stat'?: string;
  'memory.max'?: string;
  'memory.pressure'?: string;
  'memory.swap.current'?: string;
  'memory.swap.max'?: string;
  'io.pressure'?: string;
  'cgroup.procs'?: string;
}

/** cpuacct.stat counts in USER_HZ ticks, which is 100 per second on Linux. */
const NANOS_PER_USER_HZ_TICK = 10_000_000n;

/** A sample from cgroup v1 files. */
export function sampleFromV1(files: CgroupV1Files, timestampNanos: bigint): CgroupSample {
  const sample: CgroupSample = { timestampNanos };
  const cpuUsage = parseSingle(files['cpuacct.usage']);
  if (cpuUsage !== undefined) {
    const ticks = parseFlatKeyed(files['cpuacct.stat']);
    sample.cpu = { usageNanos: cpuUsage };
    if (ticks.has('user')) sample.cpu.userNanos = ticks.get('user')! * NANOS_PER_USER_HZ_TICK;
    if (ticks.has('system')) sample.cpu.systemNanos = ticks.get('system')! * NANOS_PER_USER_HZ_TICK;
    const cfs = parseFlatKeyed(files['cpu.stat']);
    if (cfs.has('nr_periods')) sample.cpu.throttling = { periods: cfs.get('nr_periods')!, throttledPeriods: cfs.get('nr_throttled') ?? 0n, throttledNanos: cfs.get('throttled_time') ?? 0n };
  }
  const usage = parseSingle(files['memory.usage_in_bytes']);
  if (usage !== undefined) {
    const stat = parseFlatKeyed(files['memory.stat']);
    const inactiveFile = stat.get('total_inactive_file') ?? stat.get('inactive_file') ?? 0n;
    const limit = parseSingle(files['memory.limit_in_bytes']);
    sample.memory = {
      usageBytes: usage,
      workingSetBytes: usage > inactiveFile ? usage - inactiveFile : 0n,
      rssBytes: stat.get('total_rss') ?? stat.get('rss'),
      pageFaults: stat.get('total_pgfault') ?? stat.get('pgfault'),
      majorPageFaults: stat.get('total_pgmajfault') ?? stat.get('pgmajfault'),
      cacheBytes: stat.get('total_cache') ?? stat.get('cache'),
      mappedFileBytes: stat.get('total_mapped_file') ?? stat.get('mapped_file'),
      maxUsageBytes: parseSingle(files['memory.max_usage_in_bytes']),
      limitHits: parseSingle(files['memory.failcnt']),
      oomKills: parseFlatKeyed(files['memory.oom_control']).get('oom_kill'),
      limitBytes: limit !== undefined && limit < V1_UNLIMITED ? limit : undefined,
    };
    const memsw = parseSingle(files['memory.memsw.usage_in_bytes']);
    const swapUsage = memsw !== undefined ? (memsw > usage ? memsw - usage : 0n) : (stat.get('total_swap') ?? stat.get('swap'));
    if (swapUsage !== undefined) {
      const memswLimit = parseSingle(files['memory.memsw.limit_in_bytes']);
      const swapLimit = memswLimit !== undefined && memswLimit < V1_UNLIMITED && limit !== undefined && limit < V1_UNLIMITED ? (memswLimit > limit ? memswLimit - limit : 0n) : undefined;
      sample.swap = { usageBytes: swapUsage, limitBytes: swapLimit };
    }
  }
  sample.processes = countLines(files['cgroup.procs']);
  return sample;
}

/** A sample from cgroup v2 files. */
export function sampleFromV2(files: CgroupV2Files, timestampNanos: bigint): CgroupSample {
  const sample: CgroupSample = { timestampNanos };
  const cpuStat = parseFlatKeyed(files['cpu.stat']);
  if (cpuStat.has('usage_usec')) {
    sample.cpu = { usageNanos: cpuStat.get('usage_usec')! * 1000n, psi: parsePressure(files['cpu.pressure']) };
    if (cpuStat.has('user_usec')) sample.cpu.userNanos = cpuStat.get('user_usec')! * 1000n;
    if (cpuStat.has('system_usec')) sample.cpu.systemNanos = cpuStat.get('system_usec')! * 1000n;
    if (cpuStat.has('nr_periods')) {
      sample.cpu.throttling = { periods: cpuStat.get('nr_periods')!, throttledPeriods: cpuStat.get('nr_throttled') ?? 0n, throttledNanos: (cpuStat.get('throttled_usec') ?? 0n) * 1000n };
    }
  }
  const usage = parseSingle(files['memory.current']);
  if (usage !== undefined) {
    const stat = parseFlatKeyed(files['memory.stat']);
    const inactiveFile = stat.get('inactive_file') ?? 0n;
    sample.memory = {
      usageBytes: usage,
      workingSetBytes: usage > inactiveFile ? usage - inactiveFile : 0n,
      rssBytes: stat.get('anon'),
      pageFaults: stat.get('pgfault'),
      majorPageFaults: stat.get('pgmajfault'),
      cacheBytes: stat.get('file'),
      mappedFileBytes: stat.get('file_mapped'),
      maxUsageBytes: parseSingle(files['memory.peak']),
      limitHits: parseFlatKeyed(files['memory.events']).get('max'),
      oomKills: parseFlatKeyed(files['memory.events']).get('oom_kill'),
      limitBytes: parseSingle(files['memory.max']),
      psi: parsePressure(files['memory.pressure']),
    };
  }
  const swapUsage = parseSingle(files['memory.swap.current']);
  if (swapUsage !== undefined) sample.swap = { usageBytes: swapUsage, limitBytes: parseSingle(files['memory.swap.max']) };
  const io = parsePressure(files['io.pressure']);
  if (io) sample.io = { psi: io };
  sample.processes = countLines(files['cgroup.procs']);
  return sample;
}

/** Reads a file's text, or undefined when it cannot be read (absent, not accounted, container gone). */
export type FileReader = (path: string) => Promise<string | undefined>;

/** Reads the cgroup files at `location` and makes a sample of them. */
export async function readCgroupSample(location: CgroupLocation, read: FileReader, now: () => bigint): Promise<CgroupSample> {
  if (location.version === 2) {
    const names = [
      'cpu.stat', 'cpu.pressure', 'memory.current', 'memory.peak', 'memory.events', 'memory.stat', 'memory.max', 'memory.pressure',
      'memory.swap.current', 'memory.swap.max', 'io.pressure', 'cgroup.procs',
    ] as const;
    const texts = await Promise.all(names.map((name) => read(`${location.dir}/${name}`)));
    const files: CgroupV2Files = {};
    names.forEach((name, i) => (files[name] = texts[i]));
    return sampleFromV2(files, now());
  }
  const where: Record<keyof CgroupV1Files, string | undefined> = {
    'cpu.stat': location.cpu,
    'cpuacct.usage': location.cpuacct,
    'cpuacct.stat': location.cpuacct,
    'memory.usage_in_bytes': location.memory,
    'memory.max_usage_in_bytes': location.memory,
    'memory.failcnt': location.memory,
    'memory.oom_control': location.memory,
    'memory.stat': location.memory,
    'memory.limit_in_bytes': location.memory,
    'memory.memsw.usage_in_bytes': location.memory,
    'memory.memsw.limit_in_bytes': location.memory,
    'cgroup.procs': location.pids ?? location.memory ?? location.cpuacct,
  };
  const names = Object.keys(where) as Array<keyof CgroupV1Files>;
  const texts = await Promise.all(names.map((name) => (where[name] ? read(`${where[name]}/${name}`) : Promise.resolve(undefined))));
  const files: CgroupV1Files = {};
  names.forEach((name, i) => (files[name] = texts[i]));
  return sampleFromV1(files, now());
}
