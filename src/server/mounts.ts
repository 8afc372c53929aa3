// The host directories of the request's bind mounts are the CRI request's own work (containerd makes
// them too), so they are made here; the host's mount table is read through the adapter's host.
import { mkdir, realpath, stat } from 'node:fs/promises';
import { failedPrecondition } from '../common/errors.js';
import type { Mount__Output } from '../cri/generated/runtime/v1/Mount.js';

/** One line of /proc/self/mountinfo: where something is mounted and how it propagates. */
export interface MountInfo {
  mountPoint: string;
  propagation: 'shared' | 'slave' | 'private';
}

/** Parses /proc/<pid>/mountinfo (pure). */
export function parseMountInfo(text: string): MountInfo[] {
  const out: MountInfo[] = [];
  for (const line of text.split('\n')) {
    const fields = line.split(' ');
    const separator = fields.indexOf('-');
    if (fields.length < 7 || separator < 6) continue;
    const optional = fields.slice(6, separator);
    const mountPoint = fields[4]!.replace(/\\(\d{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
    const propagation = optional.some((o) => o.startsWith('shared:')) ? 'shared' : optional.some((o) => o.startsWith('master:')) ? 'slave' : 'private';
    out.push({ mountPoint, propagation });
  }
  return out;
}

/** The mount holding `path` (the longest mount point that contains it; later mounts win). */
export function mountOf(path: string, mounts: MountInfo[]): MountInfo | undefined {
  let best: MountInfo | undefined;
  for (const mount of mounts) {
    const prefix = mount.mountPoint === '/' ? '/' : mount.mountPoint + '/';
    if (path !== mount.mountPoint && !path.startsWith(prefix)) continue;
    if (!best || mount.mountPoint.length >= best.mountPoint.length) best = mount;
  }
  return best;
}

/** What a CRI mount propagation needs from the host mount of its source. */
export function propagationProblem(field: string, mount: Pick<Mount__Output, 'hostPath' | 'propagation'>, hostMount: MountInfo | undefined): string | undefined {
  if (!hostMount) return undefined;
  const wanted = String(mount.propagation);
  if (wanted === 'PROPAGATION_HOST_TO_CONTAINER' && hostMount.propagation === 'private') {
    return `${field}.propagation HOST_TO_CONTAINER (rslave) needs the host mount of ${mount.hostPath} (mounted on ${hostMount.mountPoint}) to be shared or slave, and it is private; make it shared first: mount --make-rshared ${hostMount.mountPoint}`;
  }
  if (wanted === 'PROPAGATION_BIDIRECTIONAL' && hostMount.propagation !== 'shared') {
    return `${field}.propagation BIDIRECTIONAL (rshared) needs the host mount of ${mount.hostPath} (mounted on ${hostMount.mountPoint}) to be shared, and it is ${hostMount.propagation}; make it shared first: mount --make-rshared ${hostMount.mountPoint}`;
  }
  return undefined;
}

/**
 * Prepares the host side of bind mounts before `docker create`: creates missing host
 * directories (as containerd does) and refuses a propagation the host mount cannot give,
 * instead of letting the container fail when it starts. `readMountTable` answers /proc/self/mountinfo.
 */
export async function prepareHostMounts(mounts: Mount__Output[], readMountTable: () => Promise<string | undefined>): Promise<void> {
  let table: MountInfo[] | undefined;
  for (const [i, mount] of mounts.entries()) {
    if (!mount.hostPath.startsWith('/')) continue; // the argument builder names this error
    if (!(await stat(mount.hostPath).catch(() => undefined))) await mkdir(mount.hostPath, { recursive: true, mode: 0o755 });
    if (mount.propagation === 'PROPAGATION_PRIVATE' || !mount.propagation) continue;
    table ??= parseMountInfo((await readMountTable()) ?? '');
    const real = await realpath(mount.hostPath).catch(() => mount.hostPath);
    const problem = propagationProblem(`mounts[${i}]`, mount, mountOf(real, table));
    if (problem) throw failedPrecondition(problem);
  }
}
