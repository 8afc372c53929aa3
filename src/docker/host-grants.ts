/**
 * What a host lets Docker grant a container (capabilities, oom_score_adj, cgroup and security facts),
 * the facts the sandbox and container arguments are built from. Pure: src/docker/host.ts reads the host to find them out.
 */
import type { DockerInfo } from './types.js';

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
