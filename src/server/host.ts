import { readFile, readdir, stat } from 'node:fs/promises';
import type { DockerInfo } from '../docker/types.js';

/** Linux capability names by bit number (include/uapi/linux/capability.h). */
export const CAPABILITY_NAMES = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL',
  'CAP_SETGID', 'CAP_SETUID', 'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE',
  'CAP_NET_BROADCAST', 'CAP_NET_ADMIN', 'CAP_NET_RAW', 'CAP_IPC_LOCK', 'CAP_IPC_OWNER', 'CAP_SYS_MODULE',
  'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT', 'CAP_SYS_PTRACE', 'CAP_SYS_PACCT', 'CAP_SYS_ADMIN', 'CAP_SYS_BOOT',
  'CAP_SYS_NICE', 'CAP_SYS_RESOURCE', 'CAP_SYS_TIME', 'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD', 'CAP_LEASE',
  'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL', 'CAP_SETFCAP', 'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG',
  'CAP_WAKE_ALARM', 'CAP_BLOCK_SUSPEND', 'CAP_AUDIT_READ', 'CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE',
] as const;

/** The oom_score_adj cri-dockerd (and the kubelet's dockershim before it) gives every sandbox. */
export const SANDBOX_OOM_SCORE_ADJ = -998;

/** What this host lets Docker grant a container; found once at start. */
export interface HostCapabilities {
  /** Capabilities in the bounding set (what any container here can get at most). */
  capabilities: string[];
  /** Known capabilities missing from the bounding set. */
  missingCapabilities: string[];
  /** Capabilities both in the bounding set and known to this Docker version (what `--cap-add` accepts). */
  grantableCapabilities: string[];
  /** True when the bounding set is complete, so `--privileged` works. */
  privilegedAllowed: boolean;
  /** The lowest oom_score_adj a container can be given (-1000 with CAP_SYS_RESOURCE). */
  minOomScoreAdj: number;
  cgroupVersion: string;
  cgroupDriver: string;
  seccomp: boolean;
  apparmor: boolean;
  selinux: boolean;
  /** Host device nodes a privileged substitute gets (when the host lets us list them). */
  devices: string[];
}

/**
 * Capabilities this Docker engine accepts in --cap-add: 20.10 knows those up to CAP_AUDIT_READ;
 * CAP_PERFMON, CAP_BPF and CAP_CHECKPOINT_RESTORE came with Docker 23.
 */
export function dockerKnownCapabilities(serverVersion: string | undefined): string[] {
  const major = Number(/^(\d+)/.exec(serverVersion ?? '')?.[1] ?? 0);
  const upTo = major >= 23 ? CAPABILITY_NAMES.length : CAPABILITY_NAMES.indexOf('CAP_AUDIT_READ') + 1;
  return CAPABILITY_NAMES.slice(0, upTo);
}

/** Capability names from a /proc/<pid>/status mask such as "000001fffeffffff". */
export function capabilitiesFromMask(hex: string): string[] {
  const mask = BigInt('0x' + hex.trim());
  return CAPABILITY_NAMES.filter((_, bit) => (mask >> BigInt(bit)) & 1n);
}

/** The CapBnd field of a /proc/<pid>/status text. */
export function boundingMask(status: string): string | undefined {
  return /^CapBnd:\s*([0-9a-fA-F]+)$/m.exec(status)?.[1];
}

/** Pure: what the host grants, from the bounding set, the current oom_score_adj and Docker's info. */
export function describeHost(input: { capBnd: string | undefined; oomScoreAdj: number; info: DockerInfo | undefined; devices?: string[] }): HostCapabilities {
  const capabilities = input.capBnd ? capabilitiesFromMask(input.capBnd) : [...CAPABILITY_NAMES];
  const missingCapabilities = CAPABILITY_NAMES.filter((name) => !capabilities.includes(name));
  const security = (input.info?.SecurityOptions ?? []).join(',');
  const known = dockerKnownCapabilities(input.info?.ServerVersion);
  return {
    capabilities,
    missingCapabilities,
    grantableCapabilities: capabilities.filter((name) => known.includes(name)),
    privilegedAllowed: missingCapabilities.length === 0,
    // Without CAP_SYS_RESOURCE a process may only raise its oom_score_adj above what it inherited.
    minOomScoreAdj: capabilities.includes('CAP_SYS_RESOURCE') ? -1000 : Math.max(-1000, input.oomScoreAdj),
    cgroupVersion: input.info?.CgroupVersion ?? '',
    cgroupDriver: input.info?.CgroupDriver ?? '',
    seccomp: /name=seccomp/.test(security),
    apparmor: /name=apparmor/.test(security),
    selinux: /name=selinux/.test(security),
    devices: input.devices ?? [],
  };
}

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
