/**
 * The engine's host as the server sees it: /proc, the cgroup files, /dev, the Docker root's
 * writable layers, PATH. The server asks through DockerHostApi and reads none of these itself;
 * what the answers mean (parsing, limits, summaries) stays pure where it is used.
 */
import { close as fsClose, open as fsOpen, read as fsRead } from 'node:fs';
import { access, constants, lstat, readdir, stat, statfs } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { boundingMask, describeHost, type HostCapabilities } from './host-grants.js';
import type { DockerInfo } from './types.js';

/** Disk usage of a directory tree, as `du` counts it: allocated blocks, and inodes (hard links once). */
export interface DiskUsage {
  bytes: bigint;
  inodes: bigint;
}

/** What the server may read of the host. Every read answers undefined (or an empty figure) where the file cannot be read. */
export interface DockerHostApi {
  /** What the host lets Docker grant: bounding set and oom_score_adj of dockerd (else of mascri), the devices, and `info`'s cgroup and security facts. */
  grants(info: DockerInfo | undefined): Promise<HostCapabilities>;
  /** The text of /proc/<pid>/<name> (`name` e.g. "cgroup", "net/dev", "mountinfo"). */
  readProcFile(pid: number | 'self', name: string): Promise<string | undefined>;
  /** The text of a file of a cgroup (a path under a cgroup mount, as /proc/self/mountinfo names them). */
  readCgroupFile(path: string): Promise<string | undefined>;
  /** The disk usage of a container's writable layer (its upper directory). */
  diskUsage(dir: string): Promise<DiskUsage>;
  /** Inodes used on the filesystem holding `path`; undefined when it is not on this host (a remote engine). */
  inodesUsed(path: string): Promise<number | undefined>;
  /** Whether an executable `name` is in PATH or in the sbin directories (CRIU installs to /usr/sbin). */
  commandOnPath(name: string): Promise<boolean>;
}

/** How much of a /proc or cgroup file one read asks for: most are a line or a few hundred bytes. */
const SMALL_READ_BYTES = 4096;
/** How many small files are read at once (libuv runs four file operations at a time anyway). */
const SMALL_READS_AT_ONCE = 8;

const spareBuffers: Buffer[] = [];
const waitingReads: Array<() => void> = [];
let readsRunning = 0;

function openForReading(path: string): Promise<number> {
  return new Promise((resolve, reject) => fsOpen(path, 'r', (error, fd) => (error ? reject(error) : resolve(fd))));
}

function readInto(fd: number, buffer: Buffer, offset: number): Promise<number> {
  return new Promise((resolve, reject) => fsRead(fd, buffer, offset, buffer.length - offset, null, (error, bytesRead) => (error ? reject(error) : resolve(bytesRead))));
}

/**
 * Reads a file's text; undefined when it is absent or unreadable (a container that just exited).
 * For the small /proc and cgroup files: at most SMALL_READS_AT_ONCE at a time, each into one of as
 * many reused 4 KiB buffers. ListContainerStats reads a dozen such files per container; read all
 * at once with readFile (a fresh 64 KiB buffer for each, as they report size 0), the garbage
 * buffers piled up in malloc's heap until V8 collected them, and it stayed 9 MiB larger (20
 * containers), the V8 heap 8 MiB.
 */
export async function readSmallText(path: string): Promise<string | undefined> {
  if (readsRunning < SMALL_READS_AT_ONCE) readsRunning++;
  else await new Promise<void>((resolve) => waitingReads.push(resolve)); // handed the slot of a read that ended
  const buffer = spareBuffers.pop() ?? Buffer.allocUnsafeSlow(SMALL_READ_BYTES);
  let fd: number | undefined;
  try {
    fd = await openForReading(path);
    // The buffer fills read by read; a full one is copied aside (files over 4 KiB: mountinfo, a large memory.stat).
    let used = 0;
    let full: Buffer[] | undefined;
    for (;;) {
      const bytesRead = await readInto(fd, buffer, used);
      if (bytesRead === 0) break;
      used += bytesRead;
      if (used === buffer.length) {
        (full ??= []).push(Buffer.from(buffer));
        used = 0;
      }
    }
    return full ? Buffer.concat([...full, buffer.subarray(0, used)]).toString('utf8') : buffer.toString('utf8', 0, used);
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) fsClose(fd, () => undefined);
    spareBuffers.push(buffer);
    const next = waitingReads.shift();
    if (next) next();
    else readsRunning--;
  }
}

/** The host mascri runs on, read from its files (`proc` is /proc but in tests). */
export class LocalHost implements DockerHostApi {
  constructor(private readonly proc = '/proc') {}

  async grants(info: DockerInfo | undefined): Promise<HostCapabilities> {
    const pid = (await this.dockerdPid()) ?? 'self';
    const status = (await this.readProcFile(pid, 'status')) ?? (await this.readProcFile('self', 'status'));
    const oom = (await this.readProcFile(pid, 'oom_score_adj')) ?? '0';
    return describeHost({ capBnd: status === undefined ? undefined : boundingMask(status), oomScoreAdj: Number(oom.trim()) || 0, info, devices: await hostDevices() });
  }

  readProcFile(pid: number | 'self', name: string): Promise<string | undefined> {
    return readSmallText(`${this.proc}/${pid}/${name}`);
  }

  readCgroupFile(path: string): Promise<string | undefined> {
    return readSmallText(path);
  }

  diskUsage(dir: string): Promise<DiskUsage> {
    return diskUsage(dir);
  }

  async inodesUsed(path: string): Promise<number | undefined> {
    try {
      const fs = await statfs(path || '/');
      return Math.max(0, fs.files - fs.ffree);
    } catch {
      return undefined;
    }
  }

  async commandOnPath(name: string): Promise<boolean> {
    const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/local/sbin', '/usr/sbin', '/sbin'].filter((dir) => dir !== '');
    for (const dir of dirs) {
      if (await access(join(dir, name), constants.X_OK).then(() => true, () => false)) return true;
    }
    return false;
  }

  /** The docker daemon's pid, found through /proc; undefined when it does not run on this host. */
  private async dockerdPid(): Promise<number | undefined> {
    for (const entry of await readdir(this.proc).catch(() => [] as string[])) {
      if (!/^\d+$/.test(entry)) continue;
      const comm = (await this.readProcFile(Number(entry), 'comm')) ?? '';
      if (comm.trim() === 'dockerd') return Number(entry);
    }
    return undefined;
  }
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

/** Walks `dir` without following symbolic links; entries that vanish meanwhile are skipped. */
export async function diskUsage(dir: string): Promise<DiskUsage> {
  const seen = new Set<bigint>();
  let bytes = 0n;
  const pending = [dir];
  while (pending.length > 0) {
    const current = pending.pop()!;
    const stats = await lstat(current, { bigint: true }).catch(() => undefined);
    if (!stats || seen.has(stats.ino)) continue;
    seen.add(stats.ino);
    bytes += stats.blocks * 512n;
    if (!stats.isDirectory()) continue;
    const names = await readdir(current).catch(() => [] as string[]);
    for (const name of names) pending.push(join(current, name));
  }
  return { bytes, inodes: BigInt(seen.size) };
}
