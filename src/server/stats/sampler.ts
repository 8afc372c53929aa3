import type { DockerHostApi } from '../../docker/host.js';
import { locateCgroup, parseMountInfo, parseProcCgroup, readCgroupSample, type CgroupLocation, type CgroupMounts, type CgroupSample } from './cgroup.js';
import { parseNetDev, type InterfaceCounters } from './net-dev.js';

/** The host files a sampler reads: /proc and the cgroup files (the Docker adapter's host). */
export type SamplerHost = Pick<DockerHostApi, 'readProcFile' | 'readCgroupFile'>;

/** Unix nanoseconds now, with sub-millisecond precision. */
export function nowNanos(): bigint {
  return BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6));
}

/** How long the host's cgroup mount table is trusted before it is read again. */
const MOUNTS_MAX_AGE_MS = 60_000;

/**
 * Reads a container's figures from the host: its cgroup (found from its init process) and its
 * network namespace's /proc/<pid>/net/dev, read through the adapter's host. Only file reads; cgroup
 * locations are remembered per process.
 */
export class HostSampler {
  private mounts: { at: number; value: CgroupMounts } | undefined;
  private readonly locations = new Map<string, { pid: number; location: CgroupLocation }>();

  constructor(
    private readonly host: SamplerHost,
    private readonly now: () => bigint = nowNanos,
  ) {}

  /** The cgroup sample of the container whose init process is `pid`; undefined when it has none (gone, or no cgroup found). */
  async cgroupSample(containerId: string, pid: number): Promise<CgroupSample | undefined> {
    if (!pid) return undefined;
    const location = await this.locate(containerId, pid);
    return location ? readCgroupSample(location, (path) => this.host.readCgroupFile(path), this.now) : undefined;
  }

  /** The network counters of the namespace process `pid` is in; undefined when it cannot be read. */
  async netDev(pid: number): Promise<{ timestampNanos: bigint; interfaces: InterfaceCounters[] } | undefined> {
    if (!pid) return undefined;
    const text = await this.host.readProcFile(pid, 'net/dev');
    return text === undefined ? undefined : { timestampNanos: this.now(), interfaces: parseNetDev(text) };
  }

  /** Forgets containers that are not among `live` (called after a full listing). */
  retain(live: Iterable<string>): void {
    const keep = new Set(live);
    for (const id of this.locations.keys()) if (!keep.has(id)) this.locations.delete(id);
  }

  private async locate(containerId: string, pid: number): Promise<CgroupLocation | undefined> {
    const known = this.locations.get(containerId);
    if (known?.pid === pid) return known.location;
    const text = await this.host.readProcFile(pid, 'cgroup');
    if (text === undefined) return undefined;
    const location = locateCgroup(parseProcCgroup(text), await this.cgroupMounts());
    if (location) this.locations.set(containerId, { pid, location });
    return location;
  }

  private async cgroupMounts(): Promise<CgroupMounts> {
    if (this.mounts && Date.now() - this.mounts.at < MOUNTS_MAX_AGE_MS) return this.mounts.value;
    const value = parseMountInfo((await this.host.readProcFile('self', 'mountinfo')) ?? '');
    this.mounts = { at: Date.now(), value };
    return value;
  }
}
