/** Reads what this host grants (from /proc and /dev) and sums it up for Status; the facts themselves are src/docker/host-grants.ts. */
import { readFile, readdir, stat } from 'node:fs/promises';
import { boundingMask, describeHost, SANDBOX_OOM_SCORE_ADJ, type HostCapabilities } from '../docker/host-grants.js';
import type { DockerInfo } from '../docker/types.js';

/**
 * Reads what this host grants: the bounding set and oom_score_adj of the Docker daemon when it
 * runs here (else of mascri itself), and cgroup and security facts from `docker info`.
 */
export async function detectHost(info: DockerInfo | undefined): Promise<HostCapabilities> {
  const pid = (await dockerdPid()) ?? 'self';
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => readFile('/proc/self/status', 'utf8'));
  const oom = await readFile(`/proc/${pid}/oom_score_adj`, 'utf8').catch(() => '0');
  return describeHost({ capBnd: boundingMask(status), oomScoreAdj: Number(oom.trim()) || 0, info, devices: await hostDevices() });
}

/** The docker daemon's pid, found through /proc; undefined when it does not run on this host. */
async function dockerdPid(): Promise<string | undefined> {
  for (const entry of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(entry)) continue;
    const comm = await readFile(`/proc/${entry}/comm`, 'utf8').catch(() => '');
    if (comm.trim() === 'dockerd') return entry;
  }
  return undefined;
}

/** Character and block devices under /dev that a privileged container would see. */
async function hostDevices(): Promise<string[]> {
  const out: string[] = [];
  const skip = new Set(['console', 'tty', 'ptmx', 'stdin', 'stdout', 'stderr', 'fd', 'core']);
  for (const name of await readdir('/dev').catch(() => [] as string[])) {
    if (skip.has(name)) continue;
    const path = `/dev/${name}`;
    const stats = await stat(path).catch(() => undefined);
    if (stats && (stats.isCharacterDevice() || stats.isBlockDevice())) out.push(path);
  }
  return out.sort();
}

/** A summary for Status verbose info and `mascri info`. */
export function hostSummary(host: HostCapabilities): Record<string, unknown> {
  return {
    privilegedAllowed: host.privilegedAllowed,
    missingCapabilities: host.missingCapabilities,
    minOomScoreAdj: host.minOomScoreAdj,
    sandboxOomScoreAdj: Math.max(SANDBOX_OOM_SCORE_ADJ, host.minOomScoreAdj),
    cgroupVersion: host.cgroupVersion,
    cgroupDriver: host.cgroupDriver,
    seccomp: host.seccomp,
    apparmor: host.apparmor,
    selinux: host.selinux,
    privilegedSubstitute: host.privilegedAllowed
      ? 'none needed: --privileged is used'
      : 'privileged requests get every capability in the bounding set, unconfined seccomp/apparmor, unmasked /proc and /sys, and the host devices, instead of --privileged',
  };
}
